"""SQLite storage for the bot (docs/DESIGN.md#storage): versioned additive schema, batched writes, backups."""

from .backup import backup_database, backup_if_migration_pending, default_backup_dir, list_backups, restore
from .database import Database
from .errors import StorageError
from .info import inspect
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "StorageError",
    "backup_database",
    "backup_if_migration_pending",
    "default_backup_dir",
    "inspect",
    "list_backups",
    "restore",
]
