"""The fleet: a repository host, two bot hosts with sshd, a fake CyTube server, all in network namespaces."""

from __future__ import annotations

import sys

import pytest

from tests.support import releases
from tests.support.e2e_releases import NOT_READY, V1, V2
from tests.support.paths import ROOT

from .lab import (
    ACCOUNT_PASSWORD,
    SUITE,
    Ansible,
    Lab,
)
from .wiring import (
    BOT_HOSTS,
    REPO_PACKAGES,
    Fleet,
    boot_ssh_hosts,
    bot_group_vars,
    lab_inputs,
    serve_repository,
    ssh_key,
    start_cytube,
    wait_for_in_release,
    write_inventory,
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    debs, bot_rootfs, repo_rootfs = lab_inputs(REPO_PACKAGES)

    work = tmp_path_factory.mktemp("fleet")
    repo_root = work / "repo"
    releases.publish([debs[V1], debs[V2]], repo_root)
    lab = Lab(work / "lab")
    try:
        lab.create_hub()
        repo = lab.add_host("repo", 2)
        hosts = [lab.add_host(name, octet) for name, octet in BOT_HOSTS]

        # Repository host: Debian's nginx with the project's site config, serving the published tree.
        # publish.sh switches <root>/apt, a symlink into <root>/trees/: serve through the whole root.
        lab.boot(repo, repo_rootfs, binds={str(repo_root): "/srv/rosey"})
        serve_repository(lab, repo, "/srv/rosey/apt")
        wait_for_in_release(lab, repo, SUITE)

        cytube_url, cytube_lines = start_cytube(lab, hosts)

        key = ssh_key(work)
        known_hosts = work / "known_hosts"
        boot_ssh_hosts(lab, hosts, bot_rootfs, key, known_hosts)

        timings = work / "timings.jsonl"
        keyring = repo_root / "apt/rosey-archive-keyring.gpg"
        inventory = write_inventory(
            work / "inventory" / "hosts.yml", hosts, bot_group_vars(repo, keyring, SUITE, cytube_url, timings)
        )
        ansible = Ansible(lab, inventory, key, known_hosts, {"ROSEY_ACCOUNT_PASSWORD": ACCOUNT_PASSWORD})
        fleet = Fleet(lab, repo_root, repo, hosts, ansible, timings, debs[NOT_READY], cytube_lines)
        yield fleet
        if fleet.measured:
            lines = ["fleet timings (seconds from install start to health gate passed, per host):"]
            lines += [f"  {what:<40} {host:<4} {version:<8} {sec:6.2f}" for what, host, version, sec in fleet.measured]
            print("\n" + "\n".join(lines), file=sys.stderr)
            (ROOT / "build" / "fleet-timings.txt").write_text("\n".join(lines) + "\n")
    finally:
        lab.close()
