"""HTTP layer: the health/metrics server the bot runs on its own thread."""
