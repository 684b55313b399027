import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

REPO = ROOT / "repo"


def make_deb(dest: Path, version: str, payload: str = "x", package: str = "rosey-bot", arch: str = "amd64") -> Path:
    """A small but real .deb (dpkg-deb), enough to exercise the repository tooling fast."""
    out = dest / f"{package}_{version}_{arch}-{abs(hash(payload))}.deb"
    if out.exists():  # the same package asked for again
        return out
    tree = dest / f"tree-{package}-{version}-{abs(hash(payload))}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: t <t@invalid>\nDescription: test package\n"
    )
    (tree / f"usr/share/{package}-test").mkdir(parents=True)
    (tree / f"usr/share/{package}-test/payload").write_text(f"{version} {payload}")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def deb_factory(tmp_path):
    return lambda version, payload="x", package="rosey-bot", arch="amd64": make_deb(
        tmp_path, version, payload, package, arch
    )


def run_script(script: str, root: Path, *args, check: bool = True, env: dict | None = None, repo_dir: Path = REPO):
    """Run repo/<script> --root ROOT ARGS; returns the CompletedProcess."""
    proc = subprocess.run(
        [str(repo_dir / script), "--root", str(root), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def publish(root, *debs, check=True, env=None):
    return run_script("publish.sh", root, *debs, check=check, env=env)


def packages_index(root, suite="testing") -> str:
    return (root / f"apt/dists/{suite}/main/binary-amd64/Packages").read_text()


def offered(root, package="rosey-bot", suite="testing") -> list[str]:
    """Versions of ``package`` in the served Packages index of ``suite``."""
    versions, name = [], None
    for line in packages_index(root, suite).splitlines():
        if line.startswith("Package: "):
            name = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and name == package:
            versions.append(line.split(": ", 1)[1])
    return sorted(versions)


def tree_state(root) -> dict:
    """Every file of the served tree (through the apt symlink), path -> bytes, plus where it points."""
    apt = root / "apt"
    state = {str(p.relative_to(apt)): p.read_bytes() for p in sorted(apt.rglob("*")) if p.is_file()}
    state["<target>"] = os.readlink(apt).encode() if apt.is_symlink() else b""
    return state


def gpg_home(path: Path) -> dict:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {**os.environ, "GNUPGHOME": str(path)}


def new_key(home: Path, uid: str) -> str:
    """A fresh Ed25519 signing key in ``home``; returns its fingerprint."""
    env = gpg_home(home)
    subprocess.run(
        ["gpg", "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-secret-keys", uid], env=env, check=True, capture_output=True
    ).stdout.decode()
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr"))


def gpg_out(home: Path, *args) -> bytes:
    return subprocess.run(["gpg", "--batch", *args], env=gpg_home(home), check=True, capture_output=True).stdout


@pytest.fixture(autouse=True)
def _stop_gpg_agents(tmp_path):
    """gpg leaves an agent per GNUPGHOME running: stop every one this test's files started."""
    yield
    for home in [p for p in tmp_path.rglob("*") if p.is_dir() and (p / "pubring.kbx").exists()]:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)


def copy_repo_scripts(dest: Path) -> Path:
    """A copy of repo/ (to run a deliberately altered publisher)."""
    shutil.copytree(REPO, dest)
    return dest
