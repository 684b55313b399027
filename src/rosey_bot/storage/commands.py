"""CLI subcommands: `rosey-bot backup | restore | migrate | db-info`.

Each prints one line (or a short table) and exits 0, or prints one line naming
what failed and exits 1. The database comes from the config's [database].
Run as root, each first becomes the owner of the database directory (see
`privileges`), so a link planted there cannot make root write anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import backup as backup_mod
from .database import Database
from .errors import StorageError
from .info import inspect
from .privileges import drop_to_owner

COMMANDS = ("backup", "restore", "migrate", "db-info")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="copy the database into the backup directory")
    b.add_argument("--dest", help="backup directory (default: database.backup_dir, else <db dir>/backups)")
    b.add_argument("--if-exists", action="store_true", help="succeed quietly when there is no database yet")
    b.add_argument(
        "--if-migration-pending", action="store_true", help="only back up when this release would change the schema"
    )
    r = sub.add_parser("restore", help="replace the database with a backup (refused while the bot runs)")
    r.add_argument("backup_file", metavar="BACKUP_FILE")
    sub.add_parser("migrate", help="bring the database schema up to this release (backs up first)")
    i = sub.add_parser("db-info", help="schema version and row counts")
    i.add_argument("--json", action="store_true", help="machine-readable output")


def _dirs(cfg) -> tuple[Path, Path]:
    db = Path(cfg.database.path)
    return db, Path(cfg.database.backup_dir) if cfg.database.backup_dir else backup_mod.default_backup_dir(db)


def run(args: argparse.Namespace, cfg) -> int:
    try:
        db, dest = _dirs(cfg)
        drop_to_owner(db.parent, Path(getattr(args, "dest", None) or dest))
        return _COMMANDS[args.command](args, cfg)
    except (StorageError, OSError) as exc:
        print(f"rosey-bot {args.command}: {exc}", file=sys.stderr)
        return 1


def _backup(args, cfg) -> int:
    db, dest = _dirs(cfg)
    if args.dest:
        dest = Path(args.dest)
    if not db.exists() and args.if_exists:
        print(f"rosey-bot backup: no database at {db} yet; nothing to back up")
        return 0
    if args.if_migration_pending:
        if not db.exists():
            raise StorageError(f"{db}: no such database file")
        path = backup_mod.backup_if_migration_pending(db, dest, cfg.database.backup_keep)
        print(f"rosey-bot backup: {path}" if path else f"rosey-bot backup: {db} needs no migration; no backup taken")
        return 0
    print(f"rosey-bot backup: {backup_mod.backup_database(db, dest, cfg.database.backup_keep)}")
    return 0


def _restore(args, cfg) -> int:
    db, dest = _dirs(cfg)
    kept = backup_mod.restore(args.backup_file, db, dest, cfg.database.backup_keep)
    extra = f"; the replaced database was kept as {kept}" if kept else ""
    print(f"rosey-bot restore: {db} restored from {args.backup_file}{extra}")
    return 0


def _migrate(args, cfg) -> int:
    db, dest = _dirs(cfg)
    with Database(db, dest, cfg.database.backup_keep) as database:
        version = database.schema_version
    print(f"rosey-bot migrate: {db} is at schema version {version}")
    return 0


def _db_info(args, cfg) -> int:
    info = inspect(_dirs(cfg)[0])
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    note = f" ({info['pending_migrations']} migration(s) pending)" if info["pending_migrations"] else ""
    print(f"database: {info['path']} ({info['size_bytes']} bytes)")
    print(f"schema version: {info['schema_version']} (this release: {info['code_schema_version']}){note}")
    for table, rows in info["tables"].items():
        print(f"  {table}: {rows} rows")
    return 0


_COMMANDS = {"backup": _backup, "restore": _restore, "migrate": _migrate, "db-info": _db_info}
