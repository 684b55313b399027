"""Debian's piuparts (install, purge and upgrade checker) against our packages.

piuparts unpacks a minimal bookworm into a chroot, records every file,
installs the packages, purges them and reports anything added, removed or
changed. The minimal system is made once with mmdebstrap and cached as a
tarball under build/cache/piuparts/<key>.tar.gz, keyed like the container
root filesystems (tests/support/container.py) by everything that decides its
content. Debian's packages (python3, prometheus, ...) come from MIRROR.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from . import cachelock
from .container import MIRROR
from .paths import CACHE

TARBALL_CACHE = CACHE / "piuparts"
SUITE = "bookworm"
# The project repository's suite that holds every published release (docs/DESIGN.md#channels).
REPO_SUITE = "testing"
# eatmydata: piuparts runs dpkg under it when the chroot has it (no fsync per file).
BASE_PACKAGES = ("eatmydata",)
# What piuparts' verdicts say when each test ran and passed; it skips the
# upgrade test silently when apt knows none of the packages, so both must be there.
PASS_INSTALL_PURGE = "PASS: Installation and purging test."
PASS_UPGRADE = "PASS: Installation, upgrade and purging tests."
# Checks piuparts only warns about by default: make them fail too.
STRICT = (
    "--pedantic-purge-test",
    "--fail-if-inadequate",
    "--fail-on-broken-symlinks",
    "--warn-on-usr-move=fail",
)


def base_tarball() -> Path:
    """The cached minbase tarball piuparts starts every chroot from; built on first use."""
    recipe = {"suite": SUITE, "variant": "minbase", "mirror": MIRROR, "include": sorted(BASE_PACKAGES), "format": 1}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    target = TARBALL_CACHE / f"{key}.tar.gz"
    cachelock.made_once(target, target.exists, lambda: _mmdebstrap(key, target))
    return target


def _mmdebstrap(key: str, target: Path) -> None:
    TARBALL_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = TARBALL_CACHE / f"{key}.tmp.tar.gz"
    tmp.unlink(missing_ok=True)
    cmd = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(sorted(BASE_PACKAGES)), SUITE, str(tmp), MIRROR]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"mmdebstrap failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    tmp.rename(target)


def run(debs: list[Path], repository: Path, log: Path) -> subprocess.CompletedProcess:
    """piuparts on ``debs`` with the signed repository ``repository`` (a published tree) as an
    extra source, so the upgrade test installs the older versions published there first.

    No ignore option (--ignore, --ignore-regexp, --no-ignores with exceptions) and no skipped
    test: piuparts' own defaults plus STRICT.
    """
    tree = repository.resolve()
    key = tree / "rosey-archive-keyring.gpg"
    assert key.exists(), f"no published key at {key}"
    argv = [
        "piuparts",
        "--distribution",
        SUITE,
        "--mirror",
        f"{MIRROR} main",
        "--basetgz",
        str(base_tarball()),
        # The tree is bind-mounted at the same path inside the chroot.
        "--bindmount",
        str(tree),
        "--extra-repo",
        f"deb [signed-by={key}] file://{tree} {REPO_SUITE} main",
        "--log-file",
        str(log),
        *STRICT,
        *map(str, debs),
    ]
    assert shutil.which("piuparts"), "piuparts is not installed: run `make test-deps`"
    return subprocess.run(argv, capture_output=True, text=True)


def failures(output: str) -> str:
    """piuparts' ERROR lines with their indented continuation (the files it names), for an assertion message."""
    picked: list[str] = []
    taking = False
    for line in output.splitlines():
        if " ERROR: " in line:
            taking = True
        elif not line.startswith((" ", "\t")) or not line.strip():
            taking = False
        if taking:
            picked.append(line)
    return "\n".join(picked[-120:]) or output[-4000:]
