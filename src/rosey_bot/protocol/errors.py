"""The one exception type the protocol core raises for bad input."""


class ProtocolError(Exception):
    """The peer sent something that is not valid Engine.IO / socket.io / CyTube."""
