"""The one exception type the storage layer raises."""


class StorageError(Exception):
    """A database problem, phrased for the operator (sqlite3 errors are wrapped in it)."""
