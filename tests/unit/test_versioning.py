"""packaging/version.sh: the git tag is the single source of truth for the version (docs/DESIGN.md#versioning)."""

import subprocess

import pytest

from tests.support.paths import ROOT

SCRIPT = ROOT / "packaging" / "version.sh"


def git(repo, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args], cwd=repo, check=True, capture_output=True
    )


def version(repo) -> str:
    return subprocess.run([str(SCRIPT), str(repo)], check=True, capture_output=True, text=True).stdout.strip()


def dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    return tmp_path


def test_untagged_is_a_dev_prerelease(repo):
    v = version(repo)
    assert v.startswith("0.1.0~dev1+g")
    assert dpkg_lt(v, "0.1.0")


def test_tag_is_the_version_and_later_commits_sort_below_the_next(repo):
    git(repo, "tag", "v1.4.2")
    assert version(repo) == "1.4.2"
    git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    dev = version(repo)
    assert dev.startswith("1.4.3~dev1+g")
    assert dpkg_lt("1.4.2", dev) and dpkg_lt(dev, "1.4.3")


def test_non_release_tags_are_ignored(repo):
    git(repo, "tag", "v1.0.0")
    git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    git(repo, "tag", "experiment")
    assert version(repo).startswith("1.0.1~dev1")
