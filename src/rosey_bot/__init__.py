"""rosey-bot: a CyTube chat bot shipped as a Debian package.

Layers, bottom up: ``protocol`` (sans-I/O wire format), ``bot`` (connection
and behaviour), ``storage`` (SQLite), ``http`` (health and metrics server).
"""
