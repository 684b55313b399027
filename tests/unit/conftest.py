"""Fixtures of the unit tests that need a real unprivileged service user (the storage tests run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class ServiceArea:
    root: Path  # root-owned, 0755: where a victim file of root's lives
    state: Path  # owned by the service user, like /var/lib/rosey-bot
    uid: int
    gid: int


@pytest.fixture
def service_area():
    """A state directory owned by `nobody` next to root's files (not under pytest's 0700 tmp dir)."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root: it plays root and a real unprivileged service user")
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="rosey-storage-"))
    root.chmod(0o755)
    state = root / "state"
    state.mkdir(mode=0o750)
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    try:
        yield ServiceArea(root, state, nobody.pw_uid, nobody.pw_gid)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def service_dir(service_area) -> Path:
    return service_area.state
