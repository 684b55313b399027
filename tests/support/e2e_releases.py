"""The end-to-end releases and the cached rootfs, as fixtures every test directory can use.

Registered for the whole suite by tests/conftest.py (pytest_plugins); test modules import the version
names from here.

One chain of releases serves the whole suite (the e2e, fleet, pipeline, docs and packaging tests and
the benchmarks): one build of it per working-tree content, cached in build/cache/debs. Each release is
the one before it plus one patch:
  1.0.0  this tree as it is (schema N)
  1.1.0  plus a test-only additive migration N+1 (the rollback rule, docs/DESIGN.md#migration-rule)
  1.1.1  plus a changed rosey-bot.service (one more Environment= variable)
  1.2.0  not ready: installs and answers /api/health, but its bot never joins CyTube (the fleet's
         readiness gate fails where the package's health check passes)
  1.3.0  broken: the bot exits at start-up, so its health check fails
"""

from pathlib import Path

import pytest

from . import container, releases

V1, V2, UNITS, NOT_READY, BROKEN = "1.0.0", "1.1.0", "1.1.1", "1.2.0", "1.3.0"
CHAIN = (V1, V2, UNITS, NOT_READY, BROKEN)
# What a repository for a new user offers: the releases that work; the newest of them is UNITS.
GOOD = (V1, V2, UNITS)

MIGRATION_ANCHOR = "\n]\n\nSCHEMA_VERSION = len(MIGRATIONS)"
MIGRATION_N1 = """
    (  # test-only N+1: a new table and a new defaulted column
        "CREATE TABLE e2e_future (id INTEGER PRIMARY KEY, note TEXT)",
        "ALTER TABLE users ADD COLUMN e2e_flag INTEGER NOT NULL DEFAULT 0",
    ),"""
BREAK_ANCHOR = "def cmd_run(args) -> int:\n"
UNIT_ANCHOR = "Environment=PYTHONUNBUFFERED=1\n"
# What UNITS adds to the bot's unit: visible in `systemctl show` and the process environment.
UNIT_CHANGE = "ROSEY_E2E_UNIT_REVISION=2"

# The two flavours of the bot (docs/PACKAGING.md, "Which flavour"): flavour -> package.
FLAVOURS = {"venv": "rosey-bot", "native": "rosey-bot-native"}
# Where each flavour's Python code lives once installed.
CODE_DIRS = {"venv": "/opt/venvs/rosey-bot", "native": "/usr/lib/python3/dist-packages/rosey_bot"}


def _patch(tree, version):
    if version == V2:
        schema = tree / "src/rosey_bot/storage/schema.py"
        text = schema.read_text()
        assert MIGRATION_ANCHOR in text, "schema.py changed shape: update the e2e migration patch"
        schema.write_text(text.replace(MIGRATION_ANCHOR, MIGRATION_N1 + MIGRATION_ANCHOR))
    elif version == UNITS:
        unit = tree / "systemd/rosey-bot.service"
        text = unit.read_text()
        assert UNIT_ANCHOR in text, "rosey-bot.service changed shape: update the e2e unit patch"
        unit.write_text(text.replace(UNIT_ANCHOR, f"Environment=PYTHONUNBUFFERED=1 {UNIT_CHANGE}\n"))
    elif version == NOT_READY:
        break_readiness(tree)
    elif version == BROKEN:
        cli = tree / "src/rosey_bot/cli.py"
        text = cli.read_text()
        assert BREAK_ANCHOR in text, "cli.py changed shape: update the e2e breaking patch"
        cli.write_text(text.replace(BREAK_ANCHOR, BREAK_ANCHOR + '    raise SystemExit("deliberately broken")\n'))


def break_readiness(tree: Path) -> None:
    """A release that installs and answers /api/health, but whose bot can never join CyTube."""
    path = tree / "src/rosey_bot/protocol/discovery.py"
    text = path.read_text()
    assert "/socketconfig/" in text, "the discovery path moved; update the not-ready release's patch"
    path.write_text(text.replace("/socketconfig/", "/socketconfig-not-here/"))


def build_chain() -> dict[str, Path]:
    """version -> .deb of rosey-bot for every release of CHAIN (built once, then from the cache)."""
    return releases.build_releases(list(CHAIN), patch=_patch, label="e2e")


@pytest.fixture(scope="session")
def base_rootfs():
    return container.rootfs()


@pytest.fixture(scope="session")
def release_debs():
    """version -> .deb path of rosey-bot for every release of CHAIN (patches accumulate in that order)."""
    return build_chain()


@pytest.fixture(scope="session")
def flavour_debs(release_debs):
    """flavour -> version -> .deb of that flavour's package (one build makes both)."""
    out = release_debs[V1].parent
    return {f: {v: releases.package_deb(out, pkg, v) for v in release_debs} for f, pkg in FLAVOURS.items()}


@pytest.fixture(scope="session")
def native_rootfs(flavour_debs):
    """The base rootfs plus the Debian libraries the native flavour Depends on, read from its .deb:
    the test containers reach no Debian mirror, only the repositories a test adds."""
    return container.rootfs(releases.debian_python_depends(flavour_debs["native"][V1]))


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request):
    """Run a test once per flavour of the bot."""
    return request.param


@pytest.fixture
def flavour_rootfs(flavour, base_rootfs, request):
    """The venv flavour on the bare base (it needs no library of the system), the native one with Debian's."""
    return base_rootfs if flavour == "venv" else request.getfixturevalue("native_rootfs")


@pytest.fixture(scope="session")
def repository(release_debs, tmp_path_factory):
    """A signed aptly repository holding every package of the releases (published tree path)."""
    built = sorted(next(iter(release_debs.values())).parent.glob("*.deb"))
    return releases.publish(built, tmp_path_factory.mktemp("repo"))
