"""Root-run storage commands and links the service user planted in its state directory.

The state directory belongs to a real unprivileged user (`nobody`), who plants a
symbolic link to one of root's files; root then runs `rosey-bot backup | migrate |
restore | db-info`, as a separate process like an operator would (the command changes
its identity, which must not happen to the test process). Each must refuse with one
line and leave root's file exactly as it was.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rosey_bot.storage import Database, list_backups

COMMANDS = ("backup", "migrate", "restore", "db-info")


@dataclass
class Scene:
    conf: Path
    db: Path
    backup: Path  # a good backup, owned by the service user
    victim: Path  # root's empty file, 0644: the service user may read it but never write it
    victim_dir: Path


def fingerprint(path: Path) -> tuple:
    st = path.lstat()
    content = path.read_bytes() if path.is_file() else tuple(sorted(p.name for p in path.iterdir()))
    return content, st.st_uid, st.st_gid, st.st_mode, st.st_size


@pytest.fixture
def scene(service_area) -> Scene:
    db = service_area.state / "rosey.db"
    with Database(db) as d:
        d.record_chat("alice", "kept", 1)
        backup = d.backup()
    assert backup.stat().st_uid == service_area.uid  # made by root, given to the service user
    conf = service_area.root / "config.toml"
    conf.write_text(f'[database]\npath = "{db}"\n')
    # Empty, like many a file in /etc: SQLite takes an empty file for a new database.
    victim = service_area.root / "victim"
    victim.write_bytes(b"")
    victim.chmod(0o644)
    victim_dir = service_area.root / "victim-dir"
    victim_dir.mkdir()
    (victim_dir / "keep").write_text("root's\n")
    return Scene(conf, db, backup, victim, victim_dir)


def plant(area, link: Path, target: Path) -> None:
    """`ln -sfn` run as the service user itself."""
    subprocess.run(
        ["ln", "-sfn", str(target), str(link)],
        user=area.uid,
        group=area.gid,
        extra_groups=[],
        check=True,
        capture_output=True,
    )
    assert link.is_symlink() and link.lstat().st_uid == area.uid


def rosey_bot(scene: Scene, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rosey_bot.cli", "-c", str(scene.conf), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def command_line(scene: Scene, command: str) -> list[str]:
    return [command, str(scene.backup)] if command == "restore" else [command]


def assert_refused(proc: subprocess.CompletedProcess, command: str, link: Path) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and proc.stdout == "", proc.stdout + proc.stderr
    assert len(lines) == 1 and lines[0].startswith(f"rosey-bot {command}: "), proc.stderr
    assert str(link) in lines[0] and "symbolic link" in lines[0], lines[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", ["rosey.db", "rosey.db-wal", "rosey.db-shm"])
def test_a_link_planted_for_the_database_or_its_wal_and_shm_is_refused(scene, service_area, command, name):
    link = scene.db.with_name(name)
    if name == "rosey.db":
        scene.db.unlink()
    before = fingerprint(scene.victim)
    plant(service_area, link, scene.victim)
    proc = rosey_bot(scene, *command_line(scene, command))
    assert fingerprint(scene.victim) == before, "root wrote through the link"
    assert_refused(proc, command, link)
    assert link.is_symlink()  # left for the operator to look at


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_a_linked_backup_directory_is_refused(scene, service_area, command):
    backups = scene.db.parent / "backups"
    outside = service_area.root / "good-backup.db"
    outside.write_bytes(scene.backup.read_bytes())
    for p in backups.iterdir():
        p.unlink()
    backups.rmdir()
    before = fingerprint(scene.victim_dir)
    plant(service_area, backups, scene.victim_dir)
    args = ["restore", str(outside)] if command == "restore" else ["backup"]
    proc = rosey_bot(scene, *args)
    assert fingerprint(scene.victim_dir) == before, "root created files through the link"
    assert_refused(proc, command, backups)


def test_restore_refuses_a_linked_backup_file(scene, service_area):
    # Root's own rosey-bot database, which the service user must not read.
    secret = service_area.root / "root-only.db"
    with Database(secret) as d:
        d.record_chat("root", "secret line", 1)
    secret.chmod(0o600)
    before = fingerprint(secret)
    link = scene.backup.with_name("rosey-schema1-20990101T000000.000000Z.db")
    plant(service_area, link, secret)
    proc = rosey_bot(scene, "restore", str(link))
    conn = sqlite3.connect(scene.db)
    assert [r[0] for r in conn.execute("SELECT msg FROM chat_messages")] == ["kept"], "root's data leaked"
    conn.close()
    assert fingerprint(secret) == before
    assert_refused(proc, "restore", link)


def test_restore_refuses_a_linked_scratch_file(scene, service_area):
    link = scene.db.with_name(".rosey.db.restore")
    before = fingerprint(scene.victim)
    plant(service_area, link, scene.victim)
    proc = rosey_bot(scene, "restore", str(scene.backup))
    assert fingerprint(scene.victim) == before, "root wrote through the link"
    assert_refused(proc, "restore", link)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_linked_lock_file_is_refused(scene, service_area, command):
    link = scene.db.with_name("rosey.db.lock")
    link.unlink(missing_ok=True)
    before = fingerprint(scene.victim)
    plant(service_area, link, scene.victim)
    proc = rosey_bot(scene, *command_line(scene, command))
    assert fingerprint(scene.victim) == before, "root wrote through the link"
    assert_refused(proc, command, link)


def test_root_commands_work_as_the_owner_of_the_state_directory(scene, service_area):
    proc = rosey_bot(scene, "backup")
    assert proc.returncode == 0, proc.stderr
    taken = Path(proc.stdout.strip().split(": ", 1)[1])
    assert taken.stat().st_uid == service_area.uid
    proc = rosey_bot(scene, "restore", str(scene.backup))
    assert proc.returncode == 0, proc.stderr
    for p in [scene.db, *list_backups(scene.db.parent / "backups", scene.db)]:
        assert p.stat().st_uid == service_area.uid, p
    assert os.stat(scene.db.with_name("rosey.db.lock")).st_uid == service_area.uid


def test_restore_from_a_file_only_root_can_read_says_what_to_do(scene, service_area):
    private = service_area.root / "private-backup.db"
    private.write_bytes(scene.backup.read_bytes())
    private.chmod(0o600)
    proc = rosey_bot(scene, "restore", str(private))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "cannot read it (Permission denied)" in lines[0] and "copy it into the backup directory" in lines[0]
    assert sorted(p.name for p in scene.db.parent.iterdir()) == ["backups", "rosey.db", "rosey.db.lock"]


def test_a_backup_directory_of_another_user_is_refused(scene, service_area):
    other = pwd.getpwnam("daemon")
    dest = service_area.root / "daemon-backups"
    dest.mkdir()
    os.chown(dest, other.pw_uid, other.pw_gid)
    proc = rosey_bot(scene, "backup", "--dest", str(dest))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "belong to different users" in lines[0], proc.stderr
    assert list(dest.iterdir()) == []
