"""The bill of materials: the built .deb's CycloneDX file against its own venv, the lock and the metric;
debian/copyright against the locked wheels (docs/PACKAGING.md#bill-of-materials)."""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.e2e_releases import V1, build_chain
from tests.support.paths import ROOT

# One worker runs the whole module under parallel runs: one unpacked package serves the module.
pytestmark = pytest.mark.xdist_group("sbom")

SBOM = ROOT / "packaging/sbom.py"
BOM_PATH = "usr/share/doc/rosey-bot/rosey-bot.cdx.json.gz"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheelhouse() -> Path:
    """The checkout's wheelhouse, complete (offline when it already is)."""
    out = subprocess.run([str(ROOT / "packaging/wheelhouse.sh")], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def sbom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/usr/bin/python3", str(SBOM), "--wheelhouse", str(wheelhouse()), *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The built rosey-bot .deb, unpacked: (deb, root directory, its venv's site-packages)."""
    deb = build_chain()[V1]  # the suite's release chain: one cached build serves every test
    root = tmp_path_factory.mktemp("sbom-deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    (site,) = root.glob("opt/venvs/rosey-bot/lib/python3.*/site-packages")
    return deb, root, site


@pytest.fixture(scope="module")
def bom(package):
    _, root, _ = package
    return json.loads(gzip.decompress((root / BOM_PATH).read_bytes()))


def components(bom: dict) -> dict[str, str]:
    return {c["name"]: c["version"] for c in bom["components"]}


def test_bom_lists_exactly_the_distributions_of_the_venv(package, bom):
    deb, _, site = package
    in_venv = {normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions(path=[str(site)])}
    # rosey-bot is the BOM's subject (metadata.component), at the Debian version, not one of its components.
    assert in_venv.pop("rosey-bot") == "0"
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True).stdout.strip()
    assert bom["metadata"]["component"] | {"version": version} == bom["metadata"]["component"]
    assert bom["metadata"]["component"]["name"] == "rosey-bot"
    assert components(bom) == in_venv
    assert {"flask", "werkzeug", "websockets"} <= set(in_venv) and not {"pip", "setuptools", "wheel"} & set(in_venv)
    print(f"bom: {len(in_venv)} components: " + ", ".join(f"{n} {v}" for n, v in sorted(in_venv.items())))


def test_bom_components_are_the_locked_wheels_with_their_licences(bom):
    lock = (ROOT / "requirements.txt").read_text()
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", bom["serialNumber"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", bom["metadata"]["timestamp"]), "SOURCE_DATE_EPOCH's"
    for c in bom["components"]:
        assert c["purl"] == f"pkg:pypi/{c['name']}@{c['version']}" == c["bom-ref"]
        (digest,) = (h["content"] for h in c["hashes"] if h["alg"] == "SHA-256")
        pin = re.search(rf"^{re.escape(c['name'])}=={re.escape(c['version'])} \\\n((?:\s+--hash=\S+.*\n)+)", lock, re.M)
        assert pin and f"--hash=sha256:{digest}" in pin.group(1), f"{c['name']}: hash not pinned in requirements.txt"
        assert c["licenses"], c["name"]
    licences = {c["name"]: c["licenses"][0] for c in bom["components"]}
    # What the wheels' own metadata says (License-Expression, or the classifier).
    assert licences["blinker"] == {"license": {"id": "MIT"}}
    assert licences["prometheus-client"] == {"expression": "Apache-2.0 AND BSD-2-Clause"}
    # Every component appears in the dependency graph under the root.
    graph = {d["ref"]: set(d["dependsOn"]) for d in bom["dependencies"]}
    assert {c["bom-ref"] for c in bom["components"]} == set(graph) - {"rosey-bot"}
    assert "pkg:pypi/flask@" + components(bom)["flask"] in graph["rosey-bot"]


def test_the_bot_exports_the_same_list_as_a_metric(package, bom):
    # The packaged venv's own interpreter runs the metrics code, as the service would.
    _, root, _ = package
    script = (
        "from prometheus_client import generate_latest\n"
        "from rosey_bot.http.metrics import build_registry\n"
        "from rosey_bot.state import BotState\n"
        "print(generate_latest(build_registry(BotState('1', 'c'))).decode())\n"
    )
    out = subprocess.run(
        [str(root / "opt/venvs/rosey-bot/bin/python"), "-c", script], capture_output=True, text=True, check=True
    ).stdout
    exported = dict(re.findall(r'^bot_dependency_info\{name="([^"]+)",version="([^"]+)"\} 1\.0$', out, re.M))
    assert exported == components(bom)


def test_debian_copyright_names_the_licences_of_the_locked_wheels():
    proc = sbom("copyright")
    assert proc.returncode == 0, proc.stderr
    assert " blinker: MIT\n" in proc.stdout and " prometheus-client: Apache-2.0 AND BSD-2-Clause\n" in proc.stdout
    assert proc.stdout in (ROOT / "debian/copyright").read_text(), (
        "debian/copyright's vendored-distribution list differs from the locked wheels; "
        "run `packaging/sbom.py copyright --update`. It should read:\n" + proc.stdout
    )


def test_a_wheel_that_is_not_the_locked_one_stops_the_build(tmp_path):
    lock = (ROOT / "requirements.txt").read_text()
    tampered = tmp_path / "requirements.txt"
    # werkzeug's pinned hashes replaced by another (the wheel in the wheelhouse stays as it is).
    block = re.search(r"^werkzeug==.*?\n(?=\S|\s+#)", lock, re.M | re.S).group(0)
    tampered.write_text(lock.replace(block, re.sub(r"[0-9a-f]{64}", "0" * 64, block)))
    proc = sbom("--requirements", str(tampered), "copyright")
    assert proc.returncode == 1 and proc.stdout == ""
    assert re.fullmatch(
        r"sbom: werkzeug-\S+\.whl: sha256 [0-9a-f]{64} is not one requirements\.txt pins.*\n", proc.stderr
    )


def test_a_venv_holding_more_than_the_runtime_dependencies_stops_the_build(package, tmp_path):
    # For example pip, had the build forgotten to uninstall it.
    _, _, site = package
    fake = tmp_path / "site-packages"
    shutil.copytree(
        site, fake, ignore=lambda d, names: [n for n in names if not n.endswith((".dist-info", "METADATA"))]
    )
    (fake / "pip-99.0.dist-info").mkdir()
    (fake / "pip-99.0.dist-info/METADATA").write_text("Metadata-Version: 2.1\nName: pip\nVersion: 99.0\n")
    proc = sbom("bom", "--site", str(fake), "--version", "1", "--output", str(tmp_path / "bom.json"))
    assert proc.returncode == 1 and "sbom: the venv holds" in proc.stderr and "'pip'" in proc.stderr
    assert not (tmp_path / "bom.json").exists()
