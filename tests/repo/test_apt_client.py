"""apt in a booted container against the repository served by Debian's nginx (repo/nginx/rosey-apt.conf).

One container for the module: nginx inside it serves /srv/rosey-apt, a bind
mount of a host directory where each test keeps its own repository root
(URI http://127.0.0.1:8080/<name>/apt/). Every test starts from a client with
no rosey source, no key, no lists and no rosey package.
"""

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import container
from tests.support.paths import ROOT

from .repo_scripts import gpg_out, make_deb, new_key, publish, run_script, tree_state
from .test_interrupt import blocker, kill_when, start_publish

# One worker runs the whole module under parallel runs: one booted nginx container serves the module.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("apt-client")]  # booted containers: not part of `make unit`

URI = "http://127.0.0.1:8080/{name}/apt/"
SOURCES = """Types: deb
URIs: {uri}
Suites: {suite}
Components: main
Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg
"""
RESET = (
    "dpkg --purge rosey-bot rosey-monitoring rosey-archive-keyring >/dev/null 2>&1;"
    " rm -rf /etc/apt/sources.list.d/* /var/lib/apt/lists/* /usr/share/keyrings/rosey-archive-keyring.gpg"
)


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("apt client tests need root (systemd-nspawn); run `make test` as root")
    www = tmp_path_factory.mktemp("www")
    www.chmod(0o755)  # nginx runs as www-data
    rootfs = container.rootfs(("nginx",))
    with container.Container(rootfs, "rosey-apt-client", binds={str(www): "/srv/rosey-apt"}) as c:
        c.write("/etc/nginx/sites-enabled/rosey-apt", (ROOT / "repo/nginx/rosey-apt.conf").read_text())
        c.run("rm -f /etc/nginx/sites-enabled/default && nginx -t -q && systemctl restart nginx")
        (www / "ping").write_text("pong")
        probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/ping', timeout=2).read().decode())"
        deadline = time.monotonic() + 30
        while c.run(f'python3 -c "{probe}"', check=False).stdout.strip() != "pong":
            assert time.monotonic() < deadline, "nginx never served the test tree"
            time.sleep(0.1)
        yield www, c


@pytest.fixture
def site(www, request):
    """(host dir served as /<name>/, container, name) for this test, with a pristine client."""
    root_dir, c = www
    # Short: gpg-agent's socket lives in GNUPGHOME (<root>/gnupg), and socket paths are limited to 108 bytes.
    name = f"t{len(list(root_dir.iterdir()))}"
    c.run(RESET)
    yield root_dir / name, c, name
    for home in (root_dir / name).rglob("gnupg"):
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)


def trust(c, root: Path, name: str, keyring: Path | None = None, path: str = "apt/", suite: str = "testing") -> None:
    """The client setup without the keyring package: key file + deb822 source of ``suite``."""
    c.copy_in(keyring or root / "apt/rosey-archive-keyring.gpg", "/usr/share/keyrings/rosey-archive-keyring.gpg")
    uri = f"http://127.0.0.1:8080/{name}/{path}"
    c.write("/etc/apt/sources.list.d/rosey.sources", SOURCES.format(uri=uri, suite=suite))


def candidate(c) -> str:
    out = c.run("apt-cache policy rosey-bot").stdout
    return next(line.split()[1] for line in out.splitlines() if line.strip().startswith("Candidate:"))


def installed(c) -> str:
    return c.run("dpkg-query -W -f '${Status} ${Version}' rosey-bot", check=False).stdout


def three_releases_trusted(site, tmp_path) -> None:
    """1.0.0, 1.1.0 and 1.2.0 published and the client trusting them: the newest is apt's candidate."""
    root, c, name = site
    for v in ("1.0.0", "1.1.0", "1.2.0"):
        publish(root, make_deb(tmp_path, v))
    trust(c, root, name)
    c.run("apt-get update -q")
    assert candidate(c) == "1.2.0"


def test_each_of_three_releases_installs_by_version(site, tmp_path):
    root, c, name = site
    three_releases_trusted(site, tmp_path)
    for v in ("1.1.0", "1.0.0", "1.2.0", "1.0.0"):
        c.run(f"apt-get install -y -q --allow-downgrades rosey-bot={v}")
        assert installed(c) == f"install ok installed {v}"
        assert c.run("cat /usr/share/rosey-bot-test/payload").stdout == f"{v} x"


def _tamper_packages(tree: Path) -> None:
    # What a mirror-in-the-middle would do: offer a version of its own.
    binary = tree / "dists/testing/main/binary-amd64"
    text = (binary / "Packages").read_text()
    evil = text.split("\n\n")[0].replace("Version: 1.0.0", "Version: 6.6.6") + "\n\n"
    (binary / "Packages").write_text(evil + text)
    (binary / "Packages.gz").write_bytes(gzip.compress((evil + text).encode()))


def _tamper_inrelease(tree: Path) -> None:
    path = tree / "dists/testing/InRelease"
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.endswith("main/binary-amd64/Packages"))
    digest = line.split()[0]
    path.write_text(text.replace(line, line.replace(digest, digest[::-1])))
    (tree / "dists/testing/Release.gpg").unlink()


def _other_key(tree: Path, tmp: Path) -> None:
    home = tmp / "intruder"
    fpr = new_key(home, "Intruder <evil@invalid>")
    dists = tree / "dists/testing"
    for out, how in (("InRelease", "--clearsign"), ("Release.gpg", "--detach-sign")):
        (dists / out).unlink()
        gpg_out(home, "--local-user", fpr, "--armor", how, "-o", str(dists / out), str(dists / "Release"))
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)


def _unsigned(tree: Path) -> None:
    (tree / "dists/testing/InRelease").unlink()
    (tree / "dists/testing/Release.gpg").unlink()


@pytest.mark.parametrize(
    "attack, message",
    [
        ("tampered-packages", "Hash Sum mismatch|File has unexpected size"),  # apt checks size, then hashes
        ("tampered-inrelease", "BADSIG"),
        ("other-key", "NO_PUBKEY"),
        ("unsigned", "is not signed"),
    ],
)
def test_apt_refuses_a_tampered_or_wrongly_signed_repository(site, tmp_path, attack, message):
    root, c, name = site
    publish(root, make_deb(tmp_path, "1.0.0"))
    # The attacked copy of the published tree, served beside it.
    bad = root / "bad"
    shutil.copytree(root / "apt", bad)
    {
        "tampered-packages": _tamper_packages,
        "tampered-inrelease": _tamper_inrelease,
        "other-key": lambda t: _other_key(t, tmp_path),
        "unsigned": _unsigned,
    }[attack](bad)
    trust(c, root, name, path="bad/")
    proc = c.run("apt-get update -q", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert re.search(message, output), output
    install = c.run("apt-get install -y -q rosey-bot", check=False)
    assert install.returncode != 0
    assert "install ok installed" not in installed(c), "nothing may be installed from a refused repository"
    # The genuine tree still works for the same client: the refusal was about the attack.
    trust(c, root, name)
    c.run("rm -rf /var/lib/apt/lists/* && apt-get update -q && apt-get install -y -q rosey-bot")
    assert installed(c) == "install ok installed 1.0.0"


def served_over_http(c, url: str) -> str:
    """sha256 of a file as nginx serves it to the client."""
    script = f"import hashlib, urllib.request as u; print(hashlib.sha256(u.urlopen({url!r}).read()).hexdigest())"
    return c.run(f'python3 -c "{script}"').stdout.strip()


def test_interrupted_publish_leaves_the_served_repository_as_before(site, tmp_path):
    root, c, name = site
    publish(root, make_deb(tmp_path, "1.0.0"))
    publish(root, make_deb(tmp_path, "1.1.0"))
    trust(c, root, name)
    c.run("apt-get update -q")
    before = tree_state(root)
    in_release = URI.format(name=name) + "dists/testing/InRelease"
    served = served_over_http(c, in_release)
    assert served == hashlib.sha256(before["dists/testing/InRelease"]).hexdigest()
    for tool, pattern in (("gpg", "--clearsign|--detach-sign"), ("gpgv", "*InRelease")):
        (tmp_path / tool).mkdir()
        bindir, marker = blocker(tmp_path / tool, tool, pattern)
        proc = start_publish(root, make_deb(tmp_path, "1.2.0"), bindir)
        kill_when(proc, marker)
        assert tree_state(root) == before, f"killed at {tool}: the served tree changed"
        # Through nginx: the same InRelease, and apt still updates cleanly to the same versions.
        assert served_over_http(c, in_release) == served
        c.run("apt-get update -q")
        assert candidate(c) == "1.1.0"
    publish(root, make_deb(tmp_path, "1.2.0"))
    c.run("apt-get update -q && apt-get install -y -q rosey-bot")
    assert installed(c) == "install ok installed 1.2.0"


def test_withdraw_makes_apt_pick_the_previous_release(site, tmp_path):
    root, c, name = site
    three_releases_trusted(site, tmp_path)
    run_script("withdraw.sh", root, "1.2.0")
    c.run("apt-get update -q && apt-get install -y -q rosey-bot")
    assert installed(c) == "install ok installed 1.1.0"
    proc = c.run("apt-get install -y -q rosey-bot=1.2.0", check=False)
    assert proc.returncode != 0 and "'1.2.0' for 'rosey-bot' was not found" in proc.stderr, proc.stderr


def test_keyring_package_alone_makes_apt_trust_the_repository(site, tmp_path):
    root, c, name = site
    publish(root, make_deb(tmp_path, "1.0.0"))
    run_script("promote.sh", root, "1.0.0")  # the package's source tracks stable
    run_script("build-keyring.sh", root, env={"ROSEY_REPO_URI": URI.format(name=name)})
    deb = next((root / "debs").glob("rosey-archive-keyring_*_all.deb"))
    c.copy_in(deb, "/tmp/keyring.deb")
    # A fresh server: no key, no source, nothing but the package.
    assert c.run("ls /etc/apt/sources.list.d").stdout == ""
    c.run("dpkg -i /tmp/keyring.deb")
    update = c.run("apt-get update -q")
    assert f"/{name}/apt stable InRelease" in update.stdout, update.stdout
    assert "W:" not in update.stdout + update.stderr, update.stdout + update.stderr
    c.run("apt-get install -y -q rosey-bot")
    assert installed(c) == "install ok installed 1.0.0"
    # The package is itself in the repository, so it updates like any other.
    assert "rosey-archive-keyring" in c.run("apt-cache policy rosey-archive-keyring").stdout


def test_dual_signed_repository_is_trusted_by_old_key_and_new_key_clients(site, tmp_path):
    root, c, name = site
    publish(root, make_deb(tmp_path, "1.0.0"))
    old_keyring = tmp_path / "old.gpg"
    old_keyring.write_bytes((root / "apt/rosey-archive-keyring.gpg").read_bytes())
    listing = gpg_out(root / "gnupg", "--with-colons", "--list-secret-keys").decode()
    old = listing.split("fpr:::::::::")[1][:40]
    new = new_key(root / "gnupg", "rosey-bot repository signing key 2 <repo@rosey-bot.invalid>")
    new_keyring = tmp_path / "new.gpg"
    new_keyring.write_bytes(gpg_out(root / "gnupg", "--export", new))
    publish(root, make_deb(tmp_path, "1.1.0"), env={"ROSEY_SIGNING_KEY": f"{old},{new}"})
    for keyring in (old_keyring, new_keyring):
        c.run(RESET)
        trust(c, root, name, keyring=keyring)
        update = c.run("apt-get update -q")
        assert "W:" not in update.stdout + update.stderr, update.stdout + update.stderr
        c.run("apt-get install -y -q rosey-bot")
        assert installed(c) == "install ok installed 1.1.0"
    # After the transition only the new key signs: an old-key-only client is refused.
    publish(root, make_deb(tmp_path, "1.2.0"), env={"ROSEY_SIGNING_KEY": new})
    c.run(RESET)
    trust(c, root, name, keyring=old_keyring)
    proc = c.run("apt-get update -q", check=False)
    assert proc.returncode != 0 and "NO_PUBKEY" in proc.stdout + proc.stderr
