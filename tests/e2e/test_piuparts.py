"""Debian's piuparts passes on every package, for both flavours of the bot: install then purge
leaves the system as it was, and upgrading from the previous release in the signed repository
works and purges clean. The flavours conflict, so each gets its own piuparts run: the venv
flavour with rosey-monitoring and the keyring, the native one alone (its python3-* libraries
come from the Debian mirror, as on a server).

No ignore options: whatever piuparts reports is fixed in the packaging (docs/PACKAGING.md).
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import piuparts, releases
from tests.support.e2e_releases import FLAVOURS, V1, V2
from tests.support.paths import ROOT

# One worker runs the whole module under parallel runs: the previous release's repository is published once.
pytestmark = pytest.mark.xdist_group("piuparts")

# Keyring versions are dates (repo/build-keyring.sh); any two in order will do.
KEYRING_OLD, KEYRING_NEW = "2026.01.01", "2026.01.02"


def build_keyring(root, *args):
    proc = subprocess.run(
        [str(ROOT / "repo/build-keyring.sh"), "--root", str(root), *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, f"build-keyring.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def previous_release_repo(flavour_debs, tmp_path_factory):
    """A signed repository serving only the previous release: both flavours and rosey-monitoring
    at V1 and the keyring at KEYRING_OLD; returns (published tree, flavour -> .debs of the new
    release to test)."""
    root = tmp_path_factory.mktemp("piuparts-repo")
    built = flavour_debs["venv"][V1].parent
    monitoring = {v: releases.package_deb(built, "rosey-monitoring", v) for v in (V1, V2)}
    # Copies, not the cache's files: aptly hard-links what it publishes, and piuparts, which fails when
    # a process holds a file of its chroot open (its bind-mounted repository included), would count a
    # parallel test's dpkg-deb reading the cached .deb through another link of the same inode.
    copies = root / "previous"
    copies.mkdir()
    previous = [flavour_debs["venv"][V1], flavour_debs["native"][V1], monitoring[V1]]
    tree = releases.publish([Path(shutil.copy(deb, copies)) for deb in previous], root)
    build_keyring(root, "--version", KEYRING_OLD)
    new = root / "new"
    build_keyring(root, "--version", KEYRING_NEW, "--no-publish", "--out", str(new))
    keyring = new / f"rosey-archive-keyring_{KEYRING_NEW}_all.deb"
    return tree, {
        "venv": [flavour_debs["venv"][V2], monitoring[V2], keyring],
        "native": [flavour_debs["native"][V2]],
    }


# What each run's upgrade test must have started from.
PREVIOUS = {
    "venv": (("rosey-bot", V1), ("rosey-monitoring", V1), ("rosey-archive-keyring", KEYRING_OLD)),
    "native": ((FLAVOURS["native"], V1),),
}


def test_piuparts_install_purge_and_upgrade_pass(previous_release_repo, flavour, tmp_path):
    tree, debs_by_flavour = previous_release_repo
    debs = debs_by_flavour[flavour]
    log = tmp_path / "piuparts.log"
    proc = piuparts.run(debs, tree, log)
    output, returncode = proc.stdout + proc.stderr, proc.returncode
    assert returncode == 0, f"piuparts failed (full log: {log}):\n{piuparts.failures(output)}"
    assert piuparts.PASS_INSTALL_PURGE in output
    # The upgrade test ran: piuparts found the previous versions in the repository.
    assert piuparts.PASS_UPGRADE in output, f"piuparts did not test the upgrade (full log: {log})"
    for package, version in PREVIOUS[flavour]:
        assert f"Setting up {package} ({version})" in output, f"the upgrade test did not start from {package} {version}"
