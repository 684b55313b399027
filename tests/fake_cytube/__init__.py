"""A fake CyTube 3.x server for tests: real Engine.IO v4 / socket.io v4 frames over real websockets."""

from .server import Behaviour, FakeCyTube

__all__ = ["Behaviour", "FakeCyTube"]
