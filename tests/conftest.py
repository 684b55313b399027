"""Fixtures shared across test directories, registered once for the whole suite.

A test module imports plain helpers from tests.support; fixtures reach it through these plugins, never by
importing another directory's conftest.py.
"""

pytest_plugins = ["tests.support.e2e_releases"]

# The modules with the longest wall time on `make test`'s workers (`--durations`), longest first.
# `make test` runs xdist with --no-loadscope-reorder, so work is handed out in collection order: these
# start at once, and the short tests fill the other workers around them, instead of a ten-minute test
# starting when the others are done and the run waiting for it alone.
START_FIRST = (
    "tests/fleet/test_fleet.py",
    "tests/fleet/test_pipeline.py",
    "tests/e2e/test_piuparts.py",
    "tests/dashboard/test_service.py",
    "tests/docs/test_new_user.py",
    "tests/docs/test_rollback_runbook.py",
    "tests/e2e/test_package_lifecycle.py",
    "tests/e2e/test_debconf.py",
    "tests/e2e/test_unhappy_upgrades.py",
)


def pytest_collection_modifyitems(items):
    rank = {module: i for i, module in enumerate(START_FIRST)}
    # A stable sort: the tests of one module keep their order (the fleet's steps build on each other).
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(START_FIRST)))
