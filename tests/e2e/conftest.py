"""The end-to-end tests need root; their releases and rootfs are fixtures of tests/support/e2e_releases.py."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _root_only():
    if os.geteuid() != 0:
        pytest.fail("end-to-end tests need root (systemd-nspawn, nsenter); run `make test` as root")
