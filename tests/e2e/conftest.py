import os

import pytest

from tests.support import container


@pytest.fixture(scope="session", autouse=True)
def _root_only():
    if os.geteuid() != 0:
        pytest.fail("end-to-end tests need root (systemd-nspawn, nsenter); run `make test` as root")


@pytest.fixture(scope="session")
def base_rootfs():
    return container.rootfs()
