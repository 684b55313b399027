"""Release channels: testing gets every release, stable only what is promoted, the very same files."""

import hashlib
import subprocess

from tests.support.paths import ROOT

from .conftest import offered, packages_index, publish, run_script, tree_state
from .test_keys import good_signers

# The last commit whose repo/ published a single suite, bookworm (before channels).
PRE_CHANNELS = "883241f4b3dec5c67ab38921938b3bf877dad602"


def release(root, deb_factory, version):
    return publish(root, deb_factory(version), deb_factory(version, package="rosey-monitoring", arch="all"))


def sha256_fields(root, suite: str, version: str) -> dict[str, str]:
    """Package name -> SHA256 of ``version`` as the suite's Packages index lists it."""
    out, name, ver = {}, None, None
    for line in packages_index(root, suite).splitlines():
        key, _, value = line.partition(": ")
        if key == "Package":
            name = value
        elif key == "Version":
            ver = value
        elif key == "SHA256" and ver == version:
            out[name] = value
    return out


def make(*args, check=True):
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), *map(str, args)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_a_release_goes_to_testing_only(tmp_path, deb_factory):
    root = tmp_path / "r"
    release(root, deb_factory, "1.0.0")
    assert offered(root, suite="testing") == ["1.0.0"]
    assert offered(root, suite="stable") == []
    assert offered(root, suite="bookworm") == [], "the pre-channel suite is a copy of stable"


def test_promote_serves_the_same_bytes_in_stable(tmp_path, deb_factory):
    root = tmp_path / "r"
    release(root, deb_factory, "1.0.0")
    release(root, deb_factory, "1.1.0")
    out = make("promote", "VERSION=1.0.0", f"REPO_ROOT={root}").stdout
    assert "promoted rosey-bot_1.0.0_amd64" in out and "promoted rosey-monitoring_1.0.0_all" in out
    assert offered(root, suite="stable") == ["1.0.0"] and offered(root, "rosey-monitoring", "stable") == ["1.0.0"]
    assert offered(root, suite="testing") == ["1.0.0", "1.1.0"]
    in_stable = sha256_fields(root, "stable", "1.0.0")
    assert in_stable == sha256_fields(root, "testing", "1.0.0") and len(in_stable) == 2
    # The file a stable client downloads is the one that was published, byte for byte.
    for name, digest in in_stable.items():
        deb = next(root.glob(f"apt/pool/main/*/{name}/*_1.0.0_*.deb"))
        assert hashlib.sha256(deb.read_bytes()).hexdigest() == digest
    assert offered(root, suite="bookworm") == ["1.0.0"]
    keyring = root / "apt/rosey-archive-keyring.gpg"
    for suite in ("testing", "stable", "bookworm"):
        assert len(good_signers(root, keyring, suite)) == 1
    # Promoting again changes nothing.
    before = tree_state(root)
    assert "already in stable" in make("promote", "VERSION=1.0.0", f"REPO_ROOT={root}").stdout
    assert tree_state(root) == before


def test_promote_refuses_what_testing_does_not_offer(tmp_path, deb_factory):
    root = tmp_path / "r"
    release(root, deb_factory, "1.0.0")
    release(root, deb_factory, "1.1.0")
    run_script("withdraw.sh", root, "1.1.0")
    before = tree_state(root)
    for version, reason in (("1.1.0", "was withdrawn"), ("9.9.9", "testing offers no release 9.9.9")):
        proc = run_script("promote.sh", root, version, check=False)
        assert proc.returncode != 0
        assert len(proc.stderr.strip().splitlines()) == 1 and reason in proc.stderr, proc.stderr
        assert tree_state(root) == before
    assert "say which version" in make("promote", check=False).stderr
    # A workflow input is checked before make puts it into a command line.
    marker = tmp_path / "ran"
    proc = make("promote", f"VERSION=1.0.0;touch {marker}", f"REPO_ROOT={root}", check=False)
    assert proc.returncode == 2 and "not a package version" in proc.stderr and not marker.exists()
    assert tree_state(root) == before


def test_withdraw_takes_a_version_out_of_both_suites(tmp_path, deb_factory):
    root = tmp_path / "r"
    for v in ("1.0.0", "1.1.0"):
        release(root, deb_factory, v)
        run_script("promote.sh", root, v)
    make("withdraw", "VERSION=1.1.0", f"REPO_ROOT={root}")
    for suite in ("testing", "stable", "bookworm"):
        assert offered(root, suite=suite) == ["1.0.0"]
        assert offered(root, "rosey-monitoring", suite) == ["1.0.0"]


def test_demote_takes_a_version_out_of_stable_only(tmp_path, deb_factory):
    root = tmp_path / "r"
    for v in ("1.0.0", "1.1.0"):
        release(root, deb_factory, v)
        run_script("promote.sh", root, v)
    out = make("withdraw", "VERSION=1.1.0", "SUITE=stable", f"REPO_ROOT={root}").stdout
    assert "stable now offers 1.0.0" in out
    assert offered(root, suite="stable") == ["1.0.0"] and offered(root, "rosey-monitoring", "stable") == ["1.0.0"]
    assert offered(root, suite="testing") == ["1.0.0", "1.1.0"]
    # Not in stable any more: refused, one line; a wrong SUITE too.
    before = tree_state(root)
    proc = run_script("demote.sh", root, "1.1.0", check=False)
    assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and "stable offers no release 1.1.0" in proc.stderr
    assert make("withdraw", "VERSION=1.0.0", "SUITE=testing", f"REPO_ROOT={root}", check=False).returncode != 0
    assert tree_state(root) == before
    # It can be promoted again, on purpose.
    run_script("promote.sh", root, "1.1.0")
    assert offered(root, suite="stable") == ["1.0.0", "1.1.0"]


def test_keyring_package_reaches_both_suites_at_once(tmp_path, deb_factory):
    root = tmp_path / "r"
    release(root, deb_factory, "1.0.0")
    publish(root, deb_factory("2026.01.01", package="rosey-archive-keyring", arch="all"))
    for suite in ("testing", "stable", "bookworm"):
        assert offered(root, "rosey-archive-keyring", suite) == ["2026.01.01"]
    assert offered(root, suite="stable") == []


def test_prune_keeps_the_newest_of_each_suite(tmp_path, deb_factory):
    root = tmp_path / "r"
    for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0"):
        release(root, deb_factory, v)
    run_script("promote.sh", root, "1.0.0")
    run_script("prune.sh", root, "--keep", "1")
    assert offered(root, suite="testing") == ["1.0.0", "1.3.0"], "stable's newest stays installable"
    assert offered(root, suite="stable") == ["1.0.0"]


def test_a_pre_channel_repository_moves_to_channels_without_losing_a_version(tmp_path, deb_factory):
    """A repository published before channels (one suite, bookworm) keeps serving its servers."""
    old = tmp_path / "old-repo-scripts"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PRE_CHANNELS, "repo"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    root = tmp_path / "r"
    for v in ("1.0.0", "1.1.0"):
        run_script("publish.sh", root, deb_factory(v), repo_dir=old / "repo")
    legacy_release = (root / "apt/dists/bookworm/Release").read_text()
    release(root, deb_factory, "1.2.0")
    # Every version bookworm offered is in stable (and so still in bookworm); identity unchanged.
    assert offered(root, suite="stable") == ["1.0.0", "1.1.0"]
    assert offered(root, suite="bookworm") == ["1.0.0", "1.1.0"]
    assert offered(root, suite="testing") == ["1.0.0", "1.1.0", "1.2.0"]
    new_release = (root / "apt/dists/bookworm/Release").read_text()
    for field in ("Origin", "Label", "Suite", "Codename"):
        assert [x for x in new_release.splitlines() if x.startswith(field + ":")] == [
            x for x in legacy_release.splitlines() if x.startswith(field + ":")
        ]
