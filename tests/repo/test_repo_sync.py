"""CI's repository changes over real SSH: deploy/repo-sync.sh, `make ci-publish` and `make promote`.

A repository host container (sshd, rsync, Debian's nginx with repo/nginx/rosey-apt.conf)
serves a host directory bound at /srv/rosey-repo. The make targets run on this
machine inside the container's network namespace, as a CI job does: each from a
fresh local root (a fresh runner), so the repository's history can only come from
`repo-sync.sh pull`. The container is also the apt client that checks the result.
"""

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import container
from tests.support.paths import ROOT

from .repo_scripts import gpg_out, make_deb, new_key
from .test_apt_client import SOURCES
from .test_keys import good_signers

# A booted container; one booted repository host serves the module, on one worker under parallel runs.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("repo-sync")]

REPO_HOST_PACKAGES = ("nginx", "openssh-server", "rsync")
REPO_DIR = "/srv/rosey-repo"


@pytest.fixture(scope="module")
def repo_host(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("repo-sync tests need root (systemd-nspawn, nsenter); run `make test` as root")
    work = tmp_path_factory.mktemp("rh")
    served = work / "srv"
    served.mkdir(mode=0o755)
    key = work / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    rootfs = container.rootfs(REPO_HOST_PACKAGES)
    known_hosts = work / "known_hosts"
    known_hosts.write_text("127.0.0.1 " + (rootfs / "etc/ssh/ssh_host_ed25519_key.pub").read_text())
    with container.Container(rootfs, "repo-sync-host", extra_args=(f"--bind={served}:{REPO_DIR}",)) as c:
        c.write("/root/.ssh/authorized_keys", key.with_suffix(".pub").read_text(), mode="0600")
        site = (ROOT / "repo/nginx/rosey-apt.conf").read_text().replace("root /srv/rosey-apt;", f"root {REPO_DIR}/apt;")
        c.write("/etc/nginx/sites-enabled/rosey-apt", site)
        c.run("rm -f /etc/nginx/sites-enabled/default && nginx -t -q && systemctl restart nginx ssh")
        ssh = f"ssh -i {key} -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes"
        env = {**os.environ, "REPO_SSH_TARGET": "root@127.0.0.1", "REPO_SSH": ssh, "REPO_DIR": REPO_DIR}
        yield c, served, env, work


def ci_make(repo_host, runner: str, *args, env=None, check=True):
    """`make ARGS` as a fresh CI runner would run it, in the repository host's network namespace."""
    c, _, base, work = repo_host
    argv = ["nsenter", f"--net=/proc/{c.pid}/ns/net", "make", "-s", "-C", str(ROOT), *map(str, args)]
    full = {**base, "LOCAL_ROOT": str(work / runner), **(env or {})}
    proc = subprocess.run(argv, capture_output=True, text=True, env=full)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def apt_candidate(c, suite: str, keyring: Path) -> str:
    c.run("rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/*")
    c.copy_in(keyring, "/usr/share/keyrings/rosey-archive-keyring.gpg")
    c.write("/etc/apt/sources.list.d/rosey.sources", SOURCES.format(uri="http://127.0.0.1:8080/", suite=suite))
    update = c.run("apt-get update -q")
    assert "W:" not in update.stdout + update.stderr, update.stdout + update.stderr
    policy = c.run("apt-cache policy rosey-bot").stdout
    return next(line.split()[1] for line in policy.splitlines() if line.strip().startswith("Candidate:"))


def test_publish_and_promote_over_ssh_sign_with_every_key_of_the_secret(repo_host, tmp_path):
    c, served, _, work = repo_host
    # The signing secret during a key rotation: both secret keys, armoured, one blob.
    vault = work / "vault"
    old = new_key(vault, "rosey-bot old key <old@invalid>")
    new = new_key(vault, "rosey-bot new key <new@invalid>")
    secret = {"ROSEY_SIGNING_KEY_ASC": gpg_out(vault, "--armor", "--export-secret-keys", old, new).decode()}
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(vault)}, check=False)

    def debs(version):
        made = [make_deb(tmp_path, version), make_deb(tmp_path, version, package="rosey-monitoring", arch="all")]
        return " ".join(map(str, made))

    # Without the secret nothing is signed with a throwaway key and nothing is touched.
    refused = ci_make(repo_host, "ci-0", "ci-publish", f"CI_DEBS={debs('1.0.0')}", check=False)
    assert refused.returncode != 0 and "set ROSEY_SIGNING_KEY_ASC" in refused.stderr, refused.stderr
    assert not (served / "apt").exists()

    ci_make(repo_host, "ci-1", "ci-publish", f"CI_DEBS={debs('1.0.0')}", env=secret)
    ci_make(repo_host, "ci-2", "ci-publish", f"CI_DEBS={debs('1.1.0')}", env=secret)
    ci_make(repo_host, "ci-3", "promote", "VERSION=1.0.0", env=secret)

    # The repository host holds the whole history, served through the switched symlink.
    assert (served / "apt").is_symlink() and (served / "apt").resolve().parent == served / "trees"
    assert sorted(p.name for p in (served / "trees").iterdir()) == sorted(
        os.readlink(served / link).split("/")[1] for link in ("apt", "apt-previous")
    ), "push removed the trees the publisher dropped"
    assert not (served / "gnupg").exists(), "the signing keyring never leaves the CI runner"
    keyring = served / "apt/rosey-archive-keyring.gpg"
    for suite in ("testing", "stable"):
        assert sorted(good_signers(served, keyring, suite)) == sorted([old, new]), suite

    # apt clients holding only the old key, or only the new one, accept both suites.
    for fpr in (old, new):
        only = tmp_path / f"{fpr}.gpg"
        only.write_bytes(gpg_out(vault, "--export", fpr))
        assert apt_candidate(c, "testing", only) == "1.1.0"
        assert apt_candidate(c, "stable", only) == "1.0.0"
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(vault)}, check=False)
