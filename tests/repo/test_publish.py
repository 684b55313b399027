"""repo/publish.sh: idempotent, refuses changed content, keeps every version, signs, frozen identity."""

import os
import subprocess

from .conftest import copy_repo_scripts, offered, packages_index, publish, run_script, tree_state

# Each suite's identity; bookworm is the one suite of the layout before channels, kept as a copy of stable.
SUITES = ("testing", "stable", "bookworm")


def frozen(suite: str) -> list[str]:
    return ["Origin: rosey-bot", "Label: rosey-bot", f"Suite: {suite}", f"Codename: {suite}"]


def release_fields(root, suite: str) -> list[str]:
    text = (root / f"apt/dists/{suite}/Release").read_text()
    return [line for line in text.splitlines() if line.split(":")[0] in ("Origin", "Label", "Suite", "Codename")]


def test_publish_twice_is_a_noop(tmp_path, deb_factory):
    root = tmp_path / "r"
    deb = deb_factory("1.0.0")
    publish(root, deb)
    before = tree_state(root)
    out = publish(root, deb).stdout
    assert "already in the repository, unchanged" in out
    assert tree_state(root) == before, "republishing the same release must not touch the served tree"
    assert packages_index(root).count("Package: rosey-bot") == 1


def test_new_version_is_added_and_old_one_kept(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    publish(root, deb_factory("1.0.1"))
    assert offered(root) == ["1.0.0", "1.0.1"]


def test_same_version_with_other_content_is_refused(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0", payload="original"))
    before = tree_state(root)
    proc = publish(root, deb_factory("1.0.0", payload="tampered"), check=False)
    assert proc.returncode != 0
    assert "REFUSED" in proc.stderr and "different content" in proc.stderr
    assert tree_state(root) == before


def test_refused_release_adds_none_of_its_files(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"), deb_factory("1.0.0", package="rosey-monitoring", arch="all"))
    before = tree_state(root)
    # A new rosey-bot together with a changed rosey-monitoring of the old version.
    changed = deb_factory("1.0.0", payload="changed", package="rosey-monitoring", arch="all")
    assert publish(root, deb_factory("1.1.0"), changed, check=False).returncode != 0
    assert tree_state(root) == before
    publish(root, deb_factory("1.0.0"))  # nothing pending in aptly's repo either
    assert tree_state(root) == before


def test_every_deb_of_a_release_is_published_in_one_snapshot(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("2.0.0", package="rosey-monitoring", arch="all"), deb_factory("2.0.0"))
    assert offered(root) == ["2.0.0"] and offered(root, "rosey-monitoring") == ["2.0.0"]
    snapshots = subprocess.run(
        ["aptly", f"-config={root}/aptly.conf", "snapshot", "list", "-raw"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert snapshots == ["rosey-bot-2.0.0", "stable-empty"], "one snapshot for the release; stable holds nothing yet"


def test_release_is_signed_with_the_published_key(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    keyring = root / "apt/rosey-archive-keyring.gpg"
    for suite in SUITES:
        dists = root / f"apt/dists/{suite}"
        for args in (
            [str(dists / "InRelease")],
            [str(dists / "Release.gpg"), str(dists / "Release")],
        ):
            proc = subprocess.run(["gpgv", "--keyring", str(keyring), *args], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
        assert release_fields(root, suite) == frozen(suite)


def test_served_tree_is_a_switched_symlink_and_only_two_trees_are_kept(tmp_path, deb_factory):
    root = tmp_path / "r"
    targets = []
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        publish(root, deb_factory(v))
        assert (root / "apt").is_symlink()
        targets.append(os.readlink(root / "apt"))
    assert len(set(targets)) == 3 and all(t.startswith("trees/gen-") for t in targets)
    assert os.readlink(root / "apt-previous") == targets[1], "the tree served before stays for clients mid-update"
    assert sorted(p.name for p in (root / "trees").iterdir()) == sorted(t.split("/")[1] for t in targets[1:])
    assert not (root / "apt.new").exists()


def test_origin_label_suite_codename_are_frozen(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    publish(root, deb_factory("1.1.0"))
    run_script("withdraw.sh", root, "1.1.0")
    publish(root, deb_factory("1.2.0"))
    run_script("prune.sh", root, "--keep", "1")
    for suite in SUITES:
        assert release_fields(root, suite) == frozen(suite), "withdraw and prune republish under the same identity"
    # A publisher whose Origin was edited cannot change the published one.
    altered = copy_repo_scripts(tmp_path / "altered")
    lib = altered / "lib.sh"
    lib.write_text(lib.read_text().replace("ORIGIN=rosey-bot", "ORIGIN=someone-else"))
    before = tree_state(root)
    proc = run_script("publish.sh", root, deb_factory("1.3.0"), check=False, repo_dir=altered)
    assert proc.returncode != 0 and "Origin is frozen at 'rosey-bot'" in proc.stderr, proc.stderr
    assert tree_state(root) == before
