"""Fixtures of the documentation tests.

The container tests reuse the end-to-end releases of tests/support/e2e_releases.py (built once, cached in
build/cache/debs); a new user's repository offers only the good ones (GOOD there).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import releases
from tests.support.e2e_releases import GOOD
from tests.support.paths import ROOT


@pytest.fixture
def root_only():
    if os.geteuid() != 0:
        pytest.fail("the documentation's container tests need root (systemd-nspawn, network namespaces)")


@pytest.fixture(scope="session")
def good_repository(release_debs, tmp_path_factory):
    """A signed repository offering what a new user should get: the good releases only (neither the
    not-ready nor the broken one)."""
    built = sorted(next(iter(release_debs.values())).parent.glob("*.deb"))
    good = [deb for deb in built if deb.name.split("_")[1] in GOOD]
    root = tmp_path_factory.mktemp("good-repo")
    tree = releases.publish(good, root)
    # The docs set servers up on suite stable: every good release has been promoted there.
    for version in sorted({deb.name.split("_")[1] for deb in good}):
        subprocess.run([str(ROOT / "repo/promote.sh"), "--root", str(root), version], check=True, capture_output=True)
    return tree
