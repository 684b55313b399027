"""Fixtures of the documentation tests.

The container tests reuse the end-to-end releases of tests/support/e2e_releases.py (built once, cached in
build/cache/debs): V1 1.0.0, V2 1.1.0 (one more additive migration) and BROKEN 1.2.0.
"""

from __future__ import annotations

import os

import pytest

from tests.support import releases
from tests.support.e2e_releases import BROKEN


@pytest.fixture
def root_only():
    if os.geteuid() != 0:
        pytest.fail("the documentation's container tests need root (systemd-nspawn, network namespaces)")


@pytest.fixture(scope="session")
def good_repository(release_debs, tmp_path_factory):
    """A signed repository offering what a new user should get: the good releases only (no BROKEN)."""
    built = sorted(next(iter(release_debs.values())).parent.glob("*.deb"))
    good = [deb for deb in built if deb.name.split("_")[1] != BROKEN]
    return releases.publish(good, tmp_path_factory.mktemp("good-repo"))
