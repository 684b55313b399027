"""repo/publish.sh: idempotent, refuses changed content, keeps every version, signs."""

import subprocess

from tests.support.paths import ROOT

PUBLISH = str(ROOT / "repo" / "publish.sh")


def publish(root, *debs, check=True):
    proc = subprocess.run([PUBLISH, "--root", str(root), *map(str, debs)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def packages_index(root) -> str:
    return (root / "apt/dists/bookworm/main/binary-amd64/Packages").read_text()


def tree_state(root) -> dict:
    apt = root / "apt"
    return {str(p.relative_to(apt)): p.read_bytes() for p in sorted(apt.rglob("*")) if p.is_file()}


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
    index = packages_index(root)
    assert "Version: 1.0.0" in index and "Version: 1.0.1" in index


def test_same_version_with_other_content_is_refused(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0", payload="original"))
    before = tree_state(root)
    proc = publish(root, deb_factory("1.0.0", payload="tampered"), check=False)
    assert proc.returncode != 0
    assert "REFUSED" in proc.stderr and "different content" in proc.stderr
    assert tree_state(root) == before


def test_release_is_signed_with_the_published_key(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    dists = root / "apt/dists/bookworm"
    keyring = root / "apt/rosey-archive-keyring.gpg"
    for args in (
        [str(dists / "InRelease")],
        [str(dists / "Release.gpg"), str(dists / "Release")],
    ):
        proc = subprocess.run(["gpgv", "--keyring", str(keyring), *args], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    release = (dists / "Release").read_text()
    for field in ("Origin: rosey-bot", "Label: rosey-bot", "Suite: bookworm", "Codename: bookworm"):
        assert field in release
