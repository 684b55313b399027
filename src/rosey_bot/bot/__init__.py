"""Bot layer: the CyTube connection and what the bot does in the channel."""
