"""The build itself: offline from the wheelhouse, byte-identical twice, lintian-clean, both flavours.

The suite's release chain (tests/support/e2e_releases.py) is built once, cached; here its V1 commit
is built again, from a fresh clone, in a network namespace with no network at all (which proves the
build needs nothing but the wheelhouse). Both builds of the one commit must give identical bytes.
"""

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.support import releases
from tests.support.e2e_releases import V1, build_chain

# One worker runs the whole module under parallel runs: its package build is made once, for the module.
pytestmark = pytest.mark.xdist_group("build")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def debs_of(built: Path, version: str) -> list[Path]:
    return sorted(built.glob(f"*_{version}_*.deb"))


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """(the chain's cached .debs of V1, the same commit's .debs built again offline)."""
    built = build_chain()[V1].parent
    tmp = tmp_path_factory.mktemp("repro")
    clone = releases.clone_release(built, V1, tmp)
    again = releases.build(clone, tmp / "again", wrap=("unshare", "--net"))
    assert again.returncode == 0, "offline build failed:\n" + again.stderr[-3000:]
    return debs_of(built, V1), sorted((tmp / "again").glob("*.deb"))


def test_release_commits_depend_on_the_tree_alone(tmp_path, monkeypatch):
    """Two clones of one tree are the same commit, whatever date git would otherwise stamp: the builds'
    time (SOURCE_DATE_EPOCH, the changelog's date and hash) comes from the tree, not the clock."""
    heads = []
    for name, when in (("a", None), ("b", "2031-02-03T04:05:06+00:00")):
        if when:  # what git would use instead of the clock, if commit() did not set the date itself
            monkeypatch.setenv("GIT_AUTHOR_DATE", when)
            monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        clone = releases.clone_working_tree(tmp_path / name)
        releases.commit(clone, f"release {V1}")
        heads.append(subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True).stdout)
    assert heads[0] == heads[1] and heads[0].strip(), heads


def test_two_builds_are_byte_identical(two_builds, record_property):
    a, b = two_builds
    assert [p.name for p in a] == [p.name for p in b], "the rebuild is not of the same version"
    assert sorted(p.name.split("_")[0] for p in a) == ["rosey-bot", "rosey-bot-native", "rosey-monitoring"]
    for x, y in zip(a, b, strict=True):
        record_property(f"{x.name}_bytes", x.stat().st_size)
        print(f"build: {x.name} {x.stat().st_size} bytes sha256 {sha256(x)[:16]}")
        assert sha256(x) == sha256(y), f"{x.name} differs between two builds of one commit"


def test_lintian_passes_at_warning_level(two_builds):
    a, _ = two_builds
    proc = subprocess.run(["lintian", "--fail-on", "error,warning", *map(str, a)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_depends_on_the_exact_interpreter_and_ships_no_bytecode(two_builds):
    a, _ = two_builds
    bot = next(p for p in a if p.name.startswith("rosey-bot_"))
    depends = subprocess.run(["dpkg-deb", "-f", str(bot), "Depends"], capture_output=True, text=True).stdout
    assert "python3.11" in depends.replace(" ", "").split(","), depends
    listing = subprocess.run(["dpkg-deb", "-c", str(bot)], capture_output=True, text=True).stdout
    assert ".pyc" not in listing and "/bin/pip" not in listing and "site-packages/setuptools/" not in listing


def test_native_flavour_vendors_nothing_and_depends_on_debian_libraries(two_builds, record_property):
    a, _ = two_builds
    native = next(p for p in a if p.name.startswith("rosey-bot-native_"))
    listing = subprocess.run(["dpkg-deb", "-c", str(native)], capture_output=True, text=True, check=True).stdout
    paths = [line.split()[5] for line in listing.splitlines()]
    # Only the bot itself under dist-packages: every library comes from Debian.
    top = {p.split("/dist-packages/")[1].split("/")[0] for p in paths if "/dist-packages/" in p}
    assert top - {""} == {"rosey_bot", "rosey_bot-0.egg-info"}, sorted(top)
    assert not [p for p in paths if p.startswith("./opt/")], "the native flavour has no venv"
    assert ".pyc" not in listing
    depends = subprocess.run(["dpkg-deb", "-f", str(native), "Depends"], capture_output=True, text=True).stdout
    names = {d.split("(")[0].strip() for alt in depends.split(",") for d in alt.split("|")}
    for library in ("python3-flask", "python3-websockets", "python3-prometheus-client", "python3-requests"):
        assert library in names, f"{library} not in Depends: {depends}"
    assert "python3-waitress" in names, depends
    for name in ("rosey-bot_", "rosey-bot-native_"):
        deb = next(p for p in a if p.name.startswith(name))
        field = subprocess.run(["dpkg-deb", "-f", str(deb), "Installed-Size"], capture_output=True, text=True).stdout
        size = int(field)
        record_property(f"{name.rstrip('_')}_installed_kib", size)
        print(f"build: {deb.name} {deb.stat().st_size} bytes, installed {size} KiB")
