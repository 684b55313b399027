"""`rosey-bot backup | restore | migrate | db-info` as an operator runs them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rosey_bot import cli
from rosey_bot.storage import SCHEMA_VERSION, Database, list_backups


@pytest.fixture
def env(tmp_path):
    db = tmp_path / "lib" / "rosey.db"
    conf = tmp_path / "config.toml"
    conf.write_text(f'[database]\npath = "{db}"\nbackup_keep = 2\n')
    return conf, db


def run(capsys, conf: Path, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["-c", str(conf), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def chat_rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0]
    finally:
        conn.close()


def test_commands_on_a_missing_database_fail_with_one_line(env, capsys):
    conf, db = env
    for args in (["db-info"], ["backup"], ["restore", str(db.parent / "nope.db")]):
        rc, out, err = run(capsys, conf, *args)
        assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1 and "no such" in err, args
    rc, out, _ = run(capsys, conf, "backup", "--if-exists")
    assert rc == 0 and "nothing to back up" in out
    assert not db.exists()


def test_migrate_backup_restore_and_db_info(env, capsys):
    conf, db = env
    rc, out, _ = run(capsys, conf, "migrate")
    assert rc == 0 and f"schema version {SCHEMA_VERSION}" in out
    with Database(db) as d:
        d.record_chat("alice", "kept in the backup", 1)

    rc, out, _ = run(capsys, conf, "backup")
    assert rc == 0
    taken = Path(out.strip().split(": ", 1)[1])
    assert taken.parent == db.parent / "backups" and taken in list_backups(taken.parent, db)

    with Database(db) as d:
        d.record_chat("bob", "written after the backup", 2)
    rc, out, _ = run(capsys, conf, "db-info", "--json")
    info = json.loads(out)
    assert rc == 0 and info["tables"]["chat_messages"] == 2 and info["schema_version"] == SCHEMA_VERSION
    assert info["pending_migrations"] == 0

    rc, out, _ = run(capsys, conf, "restore", str(taken))
    assert rc == 0 and "restored" in out and "pre-restore" in out
    assert chat_rows(db) == 1

    rc, out, _ = run(capsys, conf, "db-info")
    assert rc == 0 and f"schema version: {SCHEMA_VERSION}" in out and "chat_messages: 1 rows" in out


def test_restore_of_a_bad_file_exits_nonzero_and_keeps_the_database(env, capsys, tmp_path):
    conf, db = env
    with Database(db) as d:
        d.record_chat("alice", "precious", 1)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00not sqlite" * 500)
    rc, out, err = run(capsys, conf, "restore", str(bad))
    assert rc == 1 and out == ""
    assert err.startswith("rosey-bot restore: ") and str(bad) in err and len(err.strip().splitlines()) == 1
    assert chat_rows(db) == 1


def test_backup_dest_and_retention_from_config(env, capsys, tmp_path):
    conf, db = env
    Database(db).close()
    dest = tmp_path / "elsewhere"
    for _ in range(4):
        assert run(capsys, conf, "backup", "--dest", str(dest))[0] == 0
    assert len(list_backups(dest, db)) == 2  # backup_keep = 2
    rc, out, _ = run(capsys, conf, "backup", "--if-migration-pending")
    assert rc == 0 and "no backup taken" in out


def test_config_error_exits_78(tmp_path, capsys):
    conf = tmp_path / "config.toml"
    conf.write_text("[database]\nbackup_keep = 0\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["-c", str(conf), "backup"])
    assert exc.value.code == 78 and "database.backup_keep" in capsys.readouterr().err


def test_console_entry_point_runs_db_info(env):
    conf, db = env
    Database(db).close()
    proc = subprocess.run(
        [sys.executable, "-m", "rosey_bot.cli", "-c", str(conf), "db-info"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert f"schema version: {SCHEMA_VERSION}" in proc.stdout
