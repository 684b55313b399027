"""Debian's piuparts passes on all three packages: install then purge leaves the system as it
was, and upgrading from the previous release in the signed repository works and purges clean.

No ignore options: whatever piuparts reports is fixed in the packaging (docs/PACKAGING.md).
"""

import subprocess

import pytest

from tests.support import piuparts, releases
from tests.support.e2e_releases import V1, V2
from tests.support.paths import ROOT

# Keyring versions are dates (repo/build-keyring.sh); any two in order will do.
KEYRING_OLD, KEYRING_NEW = "2026.01.01", "2026.01.02"


def build_keyring(root, *args):
    proc = subprocess.run(
        [str(ROOT / "repo/build-keyring.sh"), "--root", str(root), *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, f"build-keyring.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def previous_release_repo(release_debs, tmp_path_factory):
    """A signed repository serving only the previous release: rosey-bot and rosey-monitoring
    at V1 and the keyring at KEYRING_OLD; returns (published tree, .debs of the new release)."""
    root = tmp_path_factory.mktemp("piuparts-repo")
    built = release_debs[V1].parent
    tree = releases.publish([built / f"rosey-bot_{V1}_amd64.deb", built / f"rosey-monitoring_{V1}_all.deb"], root)
    build_keyring(root, "--version", KEYRING_OLD)
    new = root / "new"
    build_keyring(root, "--version", KEYRING_NEW, "--no-publish", "--out", str(new))
    debs = [
        release_debs[V2],
        built / f"rosey-monitoring_{V2}_all.deb",
        new / f"rosey-archive-keyring_{KEYRING_NEW}_all.deb",
    ]
    return tree, debs


def test_piuparts_install_purge_and_upgrade_pass(previous_release_repo, tmp_path):
    tree, debs = previous_release_repo
    log = tmp_path / "piuparts.log"
    proc = piuparts.run(debs, tree, log)
    output, returncode = proc.stdout + proc.stderr, proc.returncode
    assert returncode == 0, f"piuparts failed (full log: {log}):\n{piuparts.failures(output)}"
    assert piuparts.PASS_INSTALL_PURGE in output
    # The upgrade test ran: piuparts found the previous versions in the repository.
    assert piuparts.PASS_UPGRADE in output, f"piuparts did not test the upgrade (full log: {log})"
    for package, version in (("rosey-bot", V1), ("rosey-monitoring", V1), ("rosey-archive-keyring", KEYRING_OLD)):
        assert f"Setting up {package} ({version})" in output, f"the upgrade test did not start from {package} {version}"
