"""Real releases for the tests: the working tree, tagged in a throwaway clone, built with dpkg-buildpackage.

Builds are cached under build/cache/debs/<tree>/ (the tree hash covers every
file that goes into the package, plus the versions asked for), so a second test run
reuses them; any change to the working tree builds afresh.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import cachelock
from .paths import CACHE, ROOT

DEB_CACHE = CACHE / "debs"
# Every test build shares the checkout's wheelhouse (fetched once).
BUILD_ENV = {**os.environ, "ROSEY_WHEELHOUSE": str(ROOT / "build" / "wheelhouse")}


# Every release commit of a throwaway clone carries this date (author and committer): the commit, and
# with it SOURCE_DATE_EPOCH, the generated changelog and the .debs, depend on the tree alone, not on
# when or where it was built.
COMMIT_DATE = "2024-01-01T00:00:00+00:00"
# Every cached set of builds keeps the clone it was built from, all tags, as a git bundle: a rebuild
# of one of its releases starts from the very same commit (tests/packaging/test_build.py).
SOURCE_BUNDLE = "source.bundle"


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env)
    return proc.stdout


def working_tree_files() -> list[str]:
    out = _git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted(f for f in out.split("\0") if f and (ROOT / f).is_file())


# Files that cannot change what the package build produces; editing a test
# must not force two package builds.
NOT_IN_PACKAGE = ("tests/", "docs/", "benchmarks/", "deploy/", ".github/", ".ci/", "README.md")


def tree_hash(files: list[str]) -> str:
    h = hashlib.sha256()
    for f in files:
        if f.startswith(NOT_IN_PACKAGE):
            continue
        h.update(f.encode() + b"\0" + (ROOT / f).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def clone_working_tree(dest: Path, files: list[str] | None = None) -> Path:
    """Copy the working tree (tracked and untracked-but-not-ignored files) into ``dest/rosey-bot``,
    a fresh git repository with nothing committed yet."""
    clone = dest / "rosey-bot"
    clone.mkdir(parents=True)
    for f in working_tree_files() if files is None else files:
        (clone / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, clone / f)
    _git(clone, "init", "-q", "-b", "main")
    return clone


def commit(clone: Path, message: str) -> None:
    _git(clone, "add", "-A")
    dated = {**os.environ, "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
    _git(
        clone,
        *("-c", "user.name=tests", "-c", "user.email=tests@invalid", "commit", "-q", "--allow-empty", "-m", message),
        env=dated,
    )


def build(clone: Path, out: Path, env: dict[str, str] | None = None, wrap: tuple[str, ...] = ()):
    """packaging/build.sh of ``clone`` into ``out`` (optionally under a wrapper such as ``unshare --net``)."""
    argv = [*wrap, str(clone / "packaging/build.sh"), str(out), str(clone)]
    return subprocess.run(argv, capture_output=True, text=True, env=env or BUILD_ENV)


def build_releases(versions: list[str], patch=None, label: str = "") -> dict[str, Path]:
    """Build rosey-bot at each version (tags vX.Y.Z on successive commits); returns version -> .deb.

    ``patch(tree: Path, version: str)`` may alter the clone before a version is
    committed (for deliberately broken releases); ``label`` names that variant
    in the cache key. The clone is kept beside the .debs (SOURCE_BUNDLE, see ``clone_release``).
    """
    files = working_tree_files()
    key = f"{tree_hash(files)}-{'-'.join(versions)}{'-' + label if label else ''}"
    out = DEB_CACHE / key
    debs = {v: out / f"rosey-bot_{v}_amd64.deb" for v in versions}
    made = [*debs.values(), out / SOURCE_BUNDLE]
    cachelock.made_once(
        out, lambda: all(p.exists() for p in made), lambda: _build_into(out, key, files, versions, patch)
    )
    return debs


def _build_into(out: Path, key: str, files: list[str], versions: list[str], patch) -> None:
    shutil.rmtree(out, ignore_errors=True)
    tmp_out = DEB_CACHE / f"{key}.tmp"
    shutil.rmtree(tmp_out, ignore_errors=True)
    tmp_out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="rosey-clone-") as tmp:
        clone = clone_working_tree(Path(tmp), files)
        for v in versions:
            if patch:
                patch(clone, v)
            commit(clone, f"release {v}")
            _git(clone, "tag", f"v{v}")

        def build_tag(v: str) -> None:
            # Each tag in a worktree of its own, so builds can run side by side.
            tree = Path(tmp) / f"v{v}"
            _git(clone, "worktree", "add", "-q", "--detach", str(tree), f"v{v}")
            proc = build(tree, tmp_out)
            if proc.returncode != 0:
                raise RuntimeError(f"building {v} failed:\n{proc.stderr[-4000:]}")

        # A build is one process at a time (pip, debhelper, dpkg-deb): as many side by side as there
        # are cores. Every test that installs a release waits for this chain at the start of a run.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for done in [pool.submit(build_tag, v) for v in versions]:
                done.result()
        _git(clone, "bundle", "create", "-q", str(tmp_out / SOURCE_BUNDLE), "--all")
    tmp_out.rename(out)


def clone_release(built: Path, version: str, dest: Path) -> Path:
    """A fresh clone, in ``dest/rosey-bot``, of the commit tagged ``version`` among the releases built
    into ``built`` (a directory build_releases returned .debs from)."""
    clone = dest / "rosey-bot"
    _git(dest, "clone", "-q", "--branch", f"v{version}", str(built / SOURCE_BUNDLE), str(clone))
    return clone


def package_deb(out: Path, package: str, version: str) -> Path:
    """The .deb of ``package`` at ``version`` among the build outputs in ``out`` (any architecture)."""
    found = sorted(out.glob(f"{package}_{version}_*.deb"))
    assert len(found) == 1, f"expected one {package} {version} .deb in {out}: {found}"
    return found[0]


def debian_python_depends(deb: Path) -> tuple[str, ...]:
    """The python3-* library packages a .deb Depends on (first alternatives, no versions)."""
    field = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True).stdout
    names = (dep.split("|")[0].split("(")[0].strip() for dep in field.split(","))
    return tuple(sorted(n for n in names if n.startswith("python3-")))


def publish(debs: list[Path], root: Path) -> Path:
    """Publish into a fresh aptly repository under ``root``, one release (all its packages) at a time,
    oldest first; returns the published tree."""
    by_version: dict[str, list[Path]] = {}
    for deb in debs:
        by_version.setdefault(deb.name.split("_")[1], []).append(deb)
    for version in sorted(by_version, key=functools.cmp_to_key(_dpkg_cmp)):
        proc = subprocess.run(
            [str(ROOT / "repo/publish.sh"), "--root", str(root), *map(str, by_version[version])],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"publishing {version} failed:\n{proc.stdout}\n{proc.stderr}")
    return root / "apt"


def _dpkg_cmp(a: str, b: str) -> int:
    if a == b:
        return 0
    return -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0 else 1
