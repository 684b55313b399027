"""Fleet scale and repository size: deploy time for 3, 6 and 12 bot hosts; publish and `apt-get update` at 100 versions.

Deploy: one lab (tests/fleet/lab.py: a repository host and 12 bot hosts, each a systemd-nspawn
container with sshd in its own network namespace) is provisioned and given V1 once; then for each
fleet size N the first N hosts are put on V1 (untimed) and `deploy.yml -e rosey_version=V2 --limit`
them is timed. deploy.yml rolls out a canary host, then half the fleet at a time
(deploy/playbooks/vars/rollout.yml), so the time follows the number of batches, printed beside it.

Repository: 99 dummy rosey-bot packages (dpkg-deb of a control file and no payload, versions
0.0.1 ... 0.0.99), published in one repo/publish.sh call into a scratch root; then the timed
publish of the 100th version, the real rosey-bot payload repacked (what `make release` runs after
building), and a client container's `apt-get update` of the suite from scratch (file: URI).

Thirteen containers at once: each booted systemd holds about nine inotify instances, all counted
against root's fs.inotify.max_user_instances (128 by default on Debian). With other container
tests running beside it a container fails to boot ("Failed to allocate manager object: Too many
open files"); run it alone, or raise that limit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_publish import repack  # noqa: E402
from tests.fleet.lab import ACCOUNT_PASSWORD, SUITE, Ansible, Lab  # noqa: E402
from tests.fleet.wiring import (  # noqa: E402
    BOT_PACKAGES,
    REPO_PACKAGES,
    boot_ssh_hosts,
    bot_group_vars,
    serve_repository,
    ssh_key,
    start_cytube,
    wait_for_in_release,
    write_inventory,
)
from tests.support import apt, container, releases  # noqa: E402
from tests.support.e2e_releases import V1, V2, build_chain  # noqa: E402

SIZES = (3, 6, 12)


def deploy_scaling(work: Path, debs: dict[str, Path]) -> None:
    repo_root = work / "repo"
    releases.publish([debs[V1], debs[V2]], repo_root)
    lab = Lab(work / "lab", tag=f"rbf{os.getpid() % 100000}")
    try:
        lab.create_hub()
        repo = lab.add_host("repo", 2)
        hosts = [lab.add_host(f"b{i:02d}", 10 + i) for i in range(1, max(SIZES) + 1)]
        lab.boot(repo, container.rootfs(REPO_PACKAGES), binds={str(repo_root): "/srv/rosey"})
        serve_repository(lab, repo, "/srv/rosey/apt")
        wait_for_in_release(lab, repo, SUITE)
        cytube_url, _ = start_cytube(lab, hosts)
        key, known_hosts = ssh_key(work), work / "known_hosts"
        # Twelve hosts booting on a busy machine: give each more than the tests' minute.
        boot_ssh_hosts(lab, hosts, container.rootfs(BOT_PACKAGES), key, known_hosts, timeout=300)
        settings = bot_group_vars(repo, repo_root / "apt/rosey-archive-keyring.gpg", SUITE, cytube_url, Path(""))
        settings["rosey_timings_file"] = ""
        inventory = write_inventory(work / "inventory/hosts.yml", hosts, settings)
        ansible = Ansible(lab, inventory, key, known_hosts, {"ROSEY_ACCOUNT_PASSWORD": ACCOUNT_PASSWORD})
        ansible.playbook("provision.yml", timeout=1800)
        ansible.playbook("deploy.yml", "-e", f"rosey_version={V1}", timeout=1800)
        results = []
        for n in SIZES:
            limit = ",".join(h.name for h in hosts[:n])
            ansible.playbook("deploy.yml", "-e", f"rosey_version={V1}", "--limit", limit, timeout=1800)
            start = time.monotonic()
            proc = ansible.playbook("deploy.yml", "-e", f"rosey_version={V2}", "--limit", limit, timeout=1800)
            took = time.monotonic() - start
            batches = len(re.findall(r"^PLAY \[Deploy rosey-bot", proc.stdout, re.M))
            results.append((n, batches, took))
            print(f"deploy {V1} -> {V2} to {n:2d} hosts: {batches} batches, {took:6.1f} s")
        for n, batches, took in results:
            print(f"  fleet {n:2d}: {took / n:5.1f} s per host, {took / batches:5.1f} s per batch")
    finally:
        lab.close()


def dummy_deb(version: str, dest: Path) -> Path:
    """A rosey-bot package with no files: enough for apt's indices, built in milliseconds."""
    tree = dest / f"tree-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: rosey-bot\nVersion: {version}\nArchitecture: amd64\nMaintainer: bench <bench@invalid>\n"
        "Description: benchmark placeholder\n"
    )
    out = dest / f"rosey-bot_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)], check=True, capture_output=True)
    return out


def repository_at_100(work: Path, real_deb: Path) -> None:
    root = work / "scratch-repo"
    dummies = [dummy_deb(f"0.0.{i}", work) for i in range(1, 100)]
    start = time.monotonic()
    subprocess.run(
        [str(ROOT / "repo/publish.sh"), "--root", str(root), *map(str, dummies)], check=True, capture_output=True
    )
    print(f"seeding 99 dummy versions in one publish: {time.monotonic() - start:.1f} s")
    hundredth = repack(real_deb, "0.1.0", work)
    start = time.monotonic()
    subprocess.run(
        [str(ROOT / "repo/publish.sh"), "--root", str(root), str(hundredth)], check=True, capture_output=True
    )
    print(f"publish of the 100th version (real payload) into testing: {time.monotonic() - start:.2f} s")
    packages = (root / "apt/dists/testing/main/binary-amd64/Packages").read_text()
    print(f"testing's Packages index: {packages.count('Package: rosey-bot')} rosey-bot versions, {len(packages)} bytes")
    with container.Container(container.rootfs(), "pipeline-bench-apt", binds={str(root / "apt"): "/srv/apt"}) as c:
        c.run("install -m 0644 /srv/apt/rosey-archive-keyring.gpg /usr/share/keyrings/rosey-archive-keyring.gpg")
        c.write("/etc/apt/sources.list.d/rosey.sources", apt.SOURCES.format(uri="file:/srv/apt", suite="testing"))
        start = time.monotonic()
        c.run("apt-get update -q")
        cold = time.monotonic() - start
        start = time.monotonic()
        c.run("apt-get update -q")
        warm = time.monotonic() - start
        offered = len(re.findall(r"rosey-bot \|", c.run("apt-cache madison rosey-bot").stdout))
    print(f"apt-get update on a client, {offered} versions offered: {cold:.2f} s from scratch, {warm:.2f} s unchanged")
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(root / "gnupg")})


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("bench_fleet: needs root (network namespaces, systemd-nspawn)")
    debs = build_chain()  # the test suite's releases: cached when a test run built them
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        repository_at_100(Path(tmp), debs[V2])
        deploy_scaling(Path(tmp), debs)


if __name__ == "__main__":
    main()
