"""The release pipeline as one story, the way .github/workflows/release.yml and promote.yml run it.

The lab: a repository host (sshd, rsync and nginx serving /srv/rosey-repo/apt, no shared folder:
the runner reaches it over SSH only), three test servers tracking suite ``testing`` and three
production servers tracking ``stable``, each a systemd-nspawn container in its own network namespace.
The hub namespace is the CI runner: it calls the workflow's make targets (``ci-publish`` and
``promote``, which run ``deploy/repo-sync.sh`` pull and push around the change) and the playbooks.

tag -> build (a tagged clone, tests/support/releases) -> publish to testing -> deploy the test
servers -> audit -> promote -> deploy production -> audit, for V1 then V2; a broken release stops
at the first test server and never reaches stable; a rollback of production takes V2 out of
stable; after it neither ``apt-get upgrade`` nor ``unattended-upgrade`` moves any server.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.e2e_releases import NOT_READY, V1, V2
from tests.support.paths import ROOT

from .lab import ACCOUNT_PASSWORD, VENV_BIN, Ansible, Host, Lab
from .wiring import (
    SYNC_REPO_PACKAGES,
    boot_ssh_hosts,
    bot_group_vars,
    lab_inputs,
    serve_repository,
    ssh_key,
    start_cytube,
    write_inventory,
)

REPO_DIR = "/srv/rosey-repo"
TEST_HOSTS = (("t1", 21), ("t2", 22), ("t3", 23))
PRODUCTION_HOSTS = (("p1", 31), ("p2", 32), ("p3", 33))
# unattended-upgrades as an operator who let it upgrade everything would set it: any origin,
# so only the pin can keep rosey-bot where it is.
UNATTENDED_ANY_ORIGIN = 'Unattended-Upgrade::Origins-Pattern { "origin=*"; };\n'


@dataclass
class Pipeline:
    lab: Lab
    repo: Host
    test: list[Host]
    production: list[Host]
    ansible: dict[str, Ansible]
    runner_env: dict[str, str]
    debs: dict[str, Path]
    log: list[str] = field(default_factory=list)

    def make(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A make target of this checkout, run on the 'CI runner' (the hub) as the workflow runs it."""
        argv = ["ip", "netns", "exec", self.lab.hub, "make", "--no-print-directory", "-C", str(ROOT), *args]
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.runner_env, timeout=600)
        print(f"pipeline: make {shlex.join(args)} took {time.monotonic() - start:.1f} s (exit {proc.returncode})")
        if check and proc.returncode != 0:
            raise AssertionError(f"make {shlex.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    debs, bot_rootfs, repo_rootfs = lab_inputs(SYNC_REPO_PACKAGES)

    work = tmp_path_factory.mktemp("pipeline")
    lab = Lab(work / "lab", tag=f"rpl{os.getpid() % 100000}")
    ansibles: dict[str, Ansible] = {}
    try:
        lab.create_hub()
        repo = lab.add_host("repo", 2)
        test = [lab.add_host(name, octet) for name, octet in TEST_HOSTS]
        production = [lab.add_host(name, octet) for name, octet in PRODUCTION_HOSTS]
        key = ssh_key(work)
        known_hosts = work / "known_hosts"
        boot_ssh_hosts(lab, [repo], repo_rootfs, key, known_hosts)
        repo.container.run(f"install -d -m 0755 {REPO_DIR}")
        serve_repository(lab, repo, f"{REPO_DIR}/apt")
        boot_ssh_hosts(lab, test + production, bot_rootfs, key, known_hosts)
        for h in test + production:
            h.container.write("/etc/apt/apt.conf.d/52rosey-test-unattended", UNATTENDED_ANY_ORIGIN)
        cytube_url, _ = start_cytube(lab, test + production)

        # The CI runner: repo-sync's plain `ssh` gets the key and the checked host key the way
        # deploy/ci-ssh-setup.sh gives them to CI's (an ssh config; here through a wrapper first in
        # PATH, since ssh reads root's real ~/.ssh), the signing key as the secret holds it
        # (ROSEY_SIGNING_KEY_ASC), and a publish root of its own.
        home = lab.workdir
        ssh_config = work / "ssh_config"
        ssh_config.write_text(
            f"Host *\n  IdentityFile {key}\n  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n"
        )
        runner_bin = work / "runner-bin"
        runner_bin.mkdir()
        (runner_bin / "ssh").write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {ssh_config} "$@"\n')
        (runner_bin / "ssh").chmod(0o755)
        signing_key = make_signing_key(work / "signing")
        local_root = work / "runner-repo"
        runner_env = {
            "PATH": f"{runner_bin}:{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "REPO_SSH_TARGET": f"root@{repo.addr}",
            "REPO_DIR": REPO_DIR,
            "LOCAL_ROOT": str(local_root),
            "ROSEY_SIGNING_KEY_ASC": str(signing_key),
        }
        keyring = local_root / "apt/rosey-archive-keyring.gpg"  # there after the first publish
        timings = work / "timings.jsonl"
        for env, hosts, suite in (("test", test, "testing"), ("production", production, "stable")):
            inventory = write_inventory(
                work / "inventories" / env / "hosts.yml",
                hosts,
                bot_group_vars(repo, keyring, suite, cytube_url, timings),
            )
            a = Ansible(lab, inventory, key, known_hosts, {**runner_env, "ROSEY_ACCOUNT_PASSWORD": ACCOUNT_PASSWORD})
            a.log_dir = lab.workdir / f"ansible-logs-{env}"
            a.log_dir.mkdir()
            ansibles[env] = a
        yield Pipeline(lab, repo, test, production, ansibles, runner_env, debs)
    finally:
        lab.close()


def make_signing_key(gnupg: Path) -> Path:
    """An Ed25519 signing key exported as the CI secret holds it (armoured secret key)."""
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg)}
    gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "rosey pipeline test <ci@invalid>", "ed25519", "sign", "never"], env=env, check=True
    )
    asc = gnupg / "secret.asc"
    asc.write_bytes(
        subprocess.run([*gpg, "--armor", "--export-secret-keys"], env=env, check=True, capture_output=True).stdout
    )
    return asc


def offered(h: Host) -> list[str]:
    """The rosey-bot versions this server's suite offers, after a fresh `apt-get update`."""
    h.container.run("apt-get update -q")
    madison = h.container.run("apt-cache madison rosey-bot").stdout
    return re.findall(r"^\s*rosey-bot\s*\|\s*(\S+)\s*\|", madison, re.M)


def installed(h: Host) -> str:
    return h.container.run("dpkg-query -W -f='${Version}' rosey-bot").stdout


def audit(p: Pipeline, env: str, version: str) -> list[list[str]]:
    table = p.lab.workdir / f"audit-{env}.txt"
    p.ansible[env].playbook("audit.yml", "-e", f"rosey_audit_file={table}", "-e", f"rosey_expect_version={version}")
    print(table.read_text())
    return [ln.split() for ln in table.read_text().splitlines()[1:]]


def release(p: Pipeline, version: str, provision: bool) -> tuple[str, float]:
    """release.yml's jobs for one tagged, built version: publish, test, (approval) promote, production.

    Returns how far it got ("test" if the test deploy failed, else "production") and the seconds
    from the start of the publish to the last production server healthy and verified.
    """
    start = time.monotonic()
    p.make("ci-publish", f"CI_DEBS={p.debs[version]}")
    if provision:  # the first release: the repository (and its keyring) exists now
        for env in ("test", "production"):
            p.ansible[env].playbook("provision.yml")
    # Published means in testing only: no production server is offered it.
    assert version in offered(p.test[0])
    assert version not in offered(p.production[0]), f"{version} reached stable without a promotion"
    for env in ("test", "production"):
        proc = p.ansible[env].playbook("deploy.yml", "-e", f"rosey_version={version}", check=False)
        if proc.returncode != 0:
            return env, time.monotonic() - start
        rows = audit(p, env, version)
        assert all(r[1:] == [version, version, version, "healthy"] for r in rows), rows
        if env == "test":
            # The approval: the promote workflow, the same .deb bytes into stable.
            p.make("promote", f"VERSION={version}")
            assert version in offered(p.production[0])
    return "production", time.monotonic() - start


# One story of about twenty playbook runs over six servers: longer than the suite's per-test limit.
@pytest.mark.timeout(3600)
def test_tag_to_production_then_a_broken_release_then_a_rollback(pipeline):
    p = pipeline
    times = {}
    for version, first in ((V1, True), (V2, False)):
        reached, times[version] = release(p, version, provision=first)
        assert reached == "production", f"{version} stopped in {reached}"
    # The canary first, then half the fleet at a time: three hosts are three batches.
    for h in p.test + p.production:
        assert installed(h) == V2

    # A broken release: the first test server runs it, fails its gate, is put back; nothing goes further.
    untouched = {h.name: h.container.run("cat /var/log/dpkg.log").stdout for h in p.test[1:] + p.production}
    reached, _ = release(p, NOT_READY, provision=False)
    assert reached == "test", "the broken release passed its test deploy"
    assert f"rosey-bot:amd64 {V2} {NOT_READY}" in p.test[0].container.run("grep ' upgrade ' /var/log/dpkg.log").stdout
    for h in p.test[1:] + p.production:
        assert h.container.run("cat /var/log/dpkg.log").stdout == untouched[h.name], f"{h.name} was touched"
    for h in p.test:
        assert installed(h) == V2
    assert NOT_READY in offered(p.test[0])
    for h in p.production:
        assert set(offered(h)) == {V1, V2}, f"{h.name}: stable must offer only the promoted versions"

    # V2 misbehaves in production: roll production back. V2 leaves stable (testing keeps it).
    proc = p.ansible["production"].playbook("rollback.yml")
    assert f"rosey-bot {V2} demoted" in proc.stdout, proc.stdout[-3000:]
    for h in p.production:
        assert installed(h) == V1
        h.container.run("apt-get update -q")
        policy = h.container.run("apt-cache policy rosey-bot").stdout
        table = re.findall(r"^\s+(?:\*\*\* )?(\d\S*) \d+$", policy, re.M)  # the version table's versions
        assert table == [V1], f"{h.name} is offered more than the rolled-back version:\n{policy}"
        assert offered(h) == [V1]
    assert set(offered(p.test[0])) == {V1, V2, NOT_READY}
    rows = audit(p, "production", V1)
    assert [r[0] for r in rows] == [h.name for h in p.production]

    # Versions that stay put: nothing apt does on its own moves any server.
    before = {h.name: installed(h) for h in p.test + p.production}
    for h in p.test + p.production:
        h.container.run("apt-get update -q && apt-get upgrade -y -q")
        uu = h.container.run("unattended-upgrade --dry-run --debug 2>&1").stdout
        assert installed(h) == before[h.name], f"{h.name}: rosey-bot moved"
        assert not re.search(r"Packages that will be upgraded:.*rosey-bot", uu), f"{h.name}:\n{uu[-2000:]}"
    # And it is the pin that holds them: without it, both would take the newer version testing offers.
    t1 = p.test[0].container
    t1.run("mv /etc/apt/preferences.d/rosey-bot /root/rosey-bot.pin")
    try:
        assert f"Inst rosey-bot [{V2}] ({NOT_READY}" in t1.run("apt-get -s upgrade").stdout
        uu = t1.run("unattended-upgrade --dry-run --debug 2>&1").stdout
        assert re.search(r"Packages that will be upgraded:.*rosey-bot", uu), uu[-2000:]
    finally:
        t1.run("mv /root/rosey-bot.pin /etc/apt/preferences.d/rosey-bot")

    summary = (
        f"pipeline: tag to production healthy on the 3+3 host lab: {V1} (first install, with provision) "
        f"{times[V1]:.1f} s, {V2} (upgrade) {times[V2]:.1f} s (packages built beforehand, cached)"
    )
    print(summary)
    print("\n" + summary, file=sys.stderr)
    (ROOT / "build" / "pipeline-timings.txt").write_text(summary + "\n")
