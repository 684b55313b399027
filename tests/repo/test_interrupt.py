"""A publish killed half-way (SIGKILL) leaves the served tree exactly as it was, and the next one succeeds."""

import os
import signal
import subprocess
import time
from pathlib import Path

from .conftest import REPO, offered, publish, tree_state

BLOCKER = """#!/bin/sh
# Test stand-in for {tool}: blocks at the chosen step, so the test can kill the publisher there.
for a in "$@"; do
    case "$a" in {pattern}) touch "{marker}"; exec sleep 600 ;; esac
done
exec /usr/bin/{tool} "$@"
"""


def start_publish(root: Path, deb: Path, path_prefix: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if path_prefix:
        env["PATH"] = f"{path_prefix}:{env['PATH']}"
    # Its own process group: the kill reaches aptly, gpg and whatever runs at that moment.
    return subprocess.Popen(
        [str(REPO / "publish.sh"), "--root", str(root), str(deb)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def blocker(tmp: Path, tool: str, pattern: str) -> tuple[Path, Path]:
    bindir, marker = tmp / f"block-{tool}", tmp / f"{tool}.reached"
    bindir.mkdir()
    script = bindir / tool
    script.write_text(BLOCKER.format(tool=tool, pattern=pattern, marker=marker))
    script.chmod(0o755)
    return bindir, marker


def kill_when(proc: subprocess.Popen, marker: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            assert proc.poll() is None, f"publish ended (rc {proc.returncode}) before reaching the kill point"
            assert time.monotonic() < deadline, "publish never reached the kill point"
            time.sleep(0.02)
    finally:
        kill_group(proc)


def assert_recovers(root: Path, deb: Path, version: str) -> None:
    """The next publish finishes the job and leaves no half-made tree behind."""
    publish(root, deb)
    assert version in offered(root)
    assert len(list((root / "trees").iterdir())) == 2, sorted(p.name for p in (root / "trees").iterdir())


def test_kill_while_signing_leaves_served_tree_untouched(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    publish(root, deb_factory("1.1.0"))
    before = tree_state(root)
    bindir, marker = blocker(tmp_path, "gpg", "--clearsign|--detach-sign")
    proc = start_publish(root, deb_factory("1.2.0"), bindir)
    kill_when(proc, marker)
    assert tree_state(root) == before
    assert_recovers(root, deb_factory("1.2.0"), "1.2.0")


def test_kill_after_the_new_tree_is_complete_but_before_the_switch(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    before = tree_state(root)
    bindir, marker = blocker(tmp_path, "gpgv", "*InRelease")
    proc = start_publish(root, deb_factory("1.1.0"), bindir)
    kill_when(proc, marker)
    assert tree_state(root) == before
    # The signed new tree was there, unserved; the next run throws it away and publishes afresh.
    assert len(list((root / "trees").iterdir())) == 2
    assert_recovers(root, deb_factory("1.1.0"), "1.1.0")


def test_kill_at_arbitrary_moments_serves_old_or_new_tree_never_a_mix(tmp_path, deb_factory):
    root = tmp_path / "r"
    publish(root, deb_factory("1.0.0"))
    start = time.monotonic()
    publish(root, deb_factory("1.1.0"))
    duration = time.monotonic() - start
    print(f"one publish took {duration:.2f} s")
    for i, fraction in enumerate((0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)):
        version = f"1.2.{i}"
        before = tree_state(root)
        proc = start_publish(root, deb_factory(version))
        deadline = time.monotonic() + duration * fraction
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        kill_group(proc)
        after = tree_state(root)
        if after != before:
            # Killed after the switch: the new tree is served whole and verifies.
            assert version in offered(root)
            dists = root / "apt/dists/testing"
            gpgv = ["gpgv", "--keyring", str(root / "apt/rosey-archive-keyring.gpg"), str(dists / "InRelease")]
            subprocess.run(gpgv, check=True, capture_output=True)
        assert_recovers(root, deb_factory(version), version)
