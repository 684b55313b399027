"""Fixtures of the repository tests; the helpers they use are in repo_scripts.py."""

import os
import subprocess

import pytest

from .repo_scripts import make_deb


@pytest.fixture
def deb_factory(tmp_path):
    return lambda version, payload="x", package="rosey-bot", arch="amd64": make_deb(
        tmp_path, version, payload, package, arch
    )


@pytest.fixture(autouse=True)
def _stop_gpg_agents(tmp_path):
    """gpg leaves an agent per GNUPGHOME running: stop every one this test's files started."""
    yield
    for home in [p for p in tmp_path.rglob("*") if p.is_dir() and (p / "pubring.kbx").exists()]:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)
