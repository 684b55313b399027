"""Fixtures of the documentation tests.

The container tests reuse the end-to-end releases of tests/e2e/conftest.py (built once, cached in
build/cache/debs): V1 1.0.0, V2 1.1.0 (one more additive migration) and BROKEN 1.2.0.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.conftest import BROKEN, base_rootfs, release_debs, repository  # noqa: F401 (fixtures reused)
from tests.support import releases
from tests.support.paths import ROOT


@pytest.fixture
def root_only():
    if os.geteuid() != 0:
        pytest.fail("the documentation's container tests need root (systemd-nspawn, network namespaces)")


@pytest.fixture(scope="session")
def good_repository(release_debs, tmp_path_factory):  # noqa: F811
    """A signed repository offering what a new user should get: the good releases only (no BROKEN)."""
    built = sorted(next(iter(release_debs.values())).parent.glob("*.deb"))
    good = [deb for deb in built if deb.name.split("_")[1] != BROKEN]
    root = tmp_path_factory.mktemp("good-repo")
    tree = releases.publish(good, root)
    # The docs set servers up on suite stable: every good release has been promoted there.
    for version in sorted({deb.name.split("_")[1] for deb in good}):
        subprocess.run([str(ROOT / "repo/promote.sh"), "--root", str(root), version], check=True, capture_output=True)
    return tree
