import subprocess
from pathlib import Path

import pytest


def make_deb(dest: Path, version: str, payload: str = "x", package: str = "rosey-bot") -> Path:
    """A small but real .deb (dpkg-deb), enough to exercise the repository tooling fast."""
    tree = dest / f"tree-{package}-{version}-{abs(hash(payload))}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: t <t@invalid>\nDescription: test package\n"
    )
    (tree / "usr/share/rosey-test").mkdir(parents=True)
    (tree / "usr/share/rosey-test/payload").write_text(payload)
    out = dest / f"{package}_{version}_amd64-{abs(hash(payload))}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def deb_factory(tmp_path):
    return lambda version, payload="x", package="rosey-bot": make_deb(tmp_path, version, payload, package)
