#!/usr/bin/python3
"""The bill of materials of rosey-bot's virtualenv, from the locked, hash-checked wheels.

  packaging/sbom.py bom --site SITE --version V --output FILE
      CycloneDX 1.5 JSON of the distributions installed in the venv at SITE:
      each must be a wheel of the wheelhouse whose sha256 requirements.txt
      pins. debian/rules runs it once the venv is final.
  packaging/sbom.py copyright [--update]
      The vendored-distribution list of debian/copyright (its header Comment),
      from the locked wheels' metadata; --update writes it into debian/copyright.

Options common to both: --wheelhouse (default $ROSEY_WHEELHOUSE or
build/wheelhouse), --requirements (requirements.txt), --setup (setup.py).
Standard library only: it runs on the build machine's /usr/bin/python3.
Output is byte-identical for one commit (the reproducible build): sorted, no
timestamp but SOURCE_DATE_EPOCH's, a serial number derived from the content.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import hashlib
import json
import os
import re
import sys
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "src"))
from rosey_bot.dependencies import ROOT, canonical, closure, requirement_name  # noqa: E402  (path set just above)

# Licences the metadata states only ambiguously ("BSD License" is 2- or 3-clause;
# the ZPL has versions), each checked by reading the wheel's licence file. The
# reviewed statement is kept with it: when a new wheel says something else, the
# build stops and asks for a new review instead of shipping a stale answer.
REVIEWED = {
    "itsdangerous": ("Classifier: License :: OSI Approved :: BSD License", "BSD-3-Clause"),
    "jinja2": ("Classifier: License :: OSI Approved :: BSD License", "BSD-3-Clause"),
    "waitress": ("License: ZPL 2.1", "ZPL-2.1"),
    "charset-normalizer": ("License: MIT", "MIT"),
}
# Trove classifiers that name exactly one SPDX licence.
CLASSIFIER_SPDX = {
    "MIT License": "MIT",
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
}


class BomError(Exception):
    pass


@dataclass(frozen=True)
class Wheel:
    name: str  # canonical
    version: str
    path: Path
    sha256: str
    licence: str  # SPDX expression
    requires: tuple[str, ...]


def metadata_of(path: Path):
    """The METADATA of a wheel's own .dist-info (not of anything vendored inside it)."""
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise BomError(f"{path.name}: no single .dist-info/METADATA")
        return email.parser.BytesParser().parsebytes(z.read(names[0]), headersonly=True)


def licence_of(name: str, meta) -> str:
    """SPDX expression from License-Expression, else a reviewed License field or classifier."""
    if meta.get("License-Expression"):
        return meta["License-Expression"].strip()
    stated = [f"License: {meta['License'].strip()}"] if meta.get("License") else []
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    stated += [f"Classifier: {c}" for c in classifiers]
    if name in REVIEWED:
        seen, spdx = REVIEWED[name]
        if seen not in stated:
            raise BomError(f"{name}: its metadata now states {stated}, not {seen!r}; review REVIEWED in {__file__}")
        return spdx
    ids = {CLASSIFIER_SPDX.get(c.rsplit(" :: ", 1)[-1]) for c in classifiers}
    if len(ids) == 1 and None not in ids:
        return ids.pop()
    raise BomError(f"{name}: no unambiguous licence in its metadata ({stated}); add it to REVIEWED in {__file__}")


def locked_hashes(requirements: Path) -> dict[tuple[str, str], set[str]]:
    """(canonical name, version) -> the sha256 hashes requirements.txt allows."""
    pins: dict[tuple[str, str], set[str]] = {}
    current = None
    for line in requirements.read_text().splitlines():
        if m := re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", line):
            current = (canonical(m.group(1)), m.group(2))
            pins[current] = set()
        for h in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            pins[current].add(h)
    return pins


def locked_wheels(wheelhouse: Path, requirements: Path) -> dict[str, Wheel]:
    """canonical name -> the wheel of each pin, its hash checked against requirements.txt."""
    pins = locked_hashes(requirements)
    wheels: dict[str, Wheel] = {}
    for path in sorted(wheelhouse.glob("*.whl")):
        meta = metadata_of(path)
        key = (canonical(meta["Name"]), meta["Version"])
        if key not in pins:
            continue  # a wheel of an older lock, still in the wheelhouse
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in pins[key]:
            raise BomError(f"{path.name}: sha256 {digest} is not one requirements.txt pins for {key[0]}=={key[1]}")
        requires = tuple(meta.get_all("Requires-Dist") or [])
        wheels[key[0]] = Wheel(key[0], key[1], path, digest, licence_of(key[0], meta), requires)
    missing = sorted(f"{n}=={v}" for n, v in pins if n not in wheels)
    if missing:
        raise BomError(f"no wheel in {wheelhouse} for {', '.join(missing)}: run packaging/wheelhouse.sh")
    return wheels


def install_requires(setup_py: Path) -> list[str]:
    """setup.py's install_requires (a literal list), read without running setup.py."""
    for node in ast.walk(ast.parse(setup_py.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return ast.literal_eval(node.value)
    raise BomError(f"{setup_py}: no install_requires")


def runtime_graph(wheels: dict[str, Wheel], setup_py: Path) -> dict[str, set[str]]:
    """The locked wheels rosey-bot runs on (the build-only ones, pip's and setuptools', left out)."""
    graph = closure(
        [ROOT], lambda n: install_requires(setup_py) if n == ROOT else getattr(wheels.get(n), "requires", None)
    )
    unlocked = sorted(n for n in map(requirement_name, install_requires(setup_py)) if n and n not in graph)
    if unlocked:
        raise BomError(f"setup.py requires {', '.join(unlocked)}, which requirements.txt does not lock")
    return graph


def installed_in(site: Path) -> dict[str, str]:
    """canonical name -> version of each .dist-info in a site-packages directory."""
    found = {}
    for meta_file in sorted(site.glob("*.dist-info/METADATA")):
        meta = email.parser.BytesParser().parsebytes(meta_file.read_bytes(), headersonly=True)
        found[canonical(meta["Name"])] = meta["Version"]
    return found


def bom(wheels: dict[str, Wheel], graph: dict[str, set[str]], site: Path, version: str) -> dict:
    installed = installed_in(site)
    installed.pop(ROOT, None)
    runtime = set(graph) - {ROOT}
    if set(installed) != runtime:
        raise BomError(f"the venv holds {sorted(installed)}, but the locked runtime dependencies are {sorted(runtime)}")
    for name, v in installed.items():
        if wheels[name].version != v:
            raise BomError(f"the venv has {name} {v}, the lock {wheels[name].version}")

    def ref(name: str) -> str:
        return ROOT if name == ROOT else f"pkg:pypi/{name}@{wheels[name].version}"

    components = []
    for name in sorted(runtime):
        w = wheels[name]
        licence = {"license": {"id": w.licence}} if " " not in w.licence else {"expression": w.licence}
        components.append(
            {
                "type": "library",
                "bom-ref": ref(name),
                "name": name,
                "version": w.version,
                "purl": ref(name),
                "hashes": [{"alg": "SHA-256", "content": w.sha256}],
                "licenses": [licence],
                "properties": [{"name": "rosey-bot:wheel", "value": w.path.name}],
            }
        )
    metadata = {
        "component": {"type": "application", "bom-ref": ROOT, "name": ROOT, "version": version},
        "tools": {"components": [{"type": "application", "name": "packaging/sbom.py"}]},
    }
    if os.environ.get("SOURCE_DATE_EPOCH"):
        when = datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), UTC)
        metadata = {"timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"), **metadata}
    dependencies = [{"ref": ref(n), "dependsOn": sorted(ref(d) for d in graph[n])} for n in sorted(graph)]
    body = {"metadata": metadata, "components": components, "dependencies": dependencies}
    # Unique per content (CycloneDX asks for a unique serial) yet the same for two builds of one commit.
    serial = uuid.uuid5(uuid.NAMESPACE_URL, "rosey-bot-bom:" + json.dumps(body, sort_keys=True))
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{serial}", "version": 1, **body}


COMMENT_HEAD = """\
Comment: The rosey-bot virtualenv under /opt/venvs/rosey-bot bundles these
 Python distributions, each under its own licence, whose full text is in its
 .dist-info directory there. The list is the locked wheels' metadata, written
 by `packaging/sbom.py copyright --update`; a test fails when they differ.
 /usr/share/doc/rosey-bot/rosey-bot.cdx.json.gz lists their versions and hashes.
 ."""


def copyright_comment(wheels: dict[str, Wheel], graph: dict[str, set[str]]) -> str:
    rows = [f" {name}: {wheels[name].licence}" for name in sorted(set(graph) - {ROOT})]
    return "\n".join([COMMENT_HEAD, *rows]) + "\n"


def replace_comment(copyright_text: str, comment: str) -> str:
    """debian/copyright with its header paragraph's Comment field replaced."""
    header, sep, rest = copyright_text.partition("\n\n")
    fields = re.split(r"\n(?=\S)", header + "\n")
    kept = [f.rstrip("\n") for f in fields if f.strip() and not f.startswith("Comment:")]
    return "\n".join(kept) + "\n" + comment.rstrip("\n") + sep + rest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="packaging/sbom.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--wheelhouse", type=Path, default=Path(os.environ.get("ROSEY_WHEELHOUSE", HERE / "build/wheelhouse"))
    )
    p.add_argument("--requirements", type=Path, default=HERE / "requirements.txt")
    p.add_argument("--setup", type=Path, default=HERE / "setup.py")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bom", help="CycloneDX JSON of a built venv")
    b.add_argument("--site", type=Path, required=True, help="the venv's site-packages")
    b.add_argument("--version", required=True, help="rosey-bot's Debian version")
    b.add_argument("--output", type=Path, required=True)
    c = sub.add_parser("copyright", help="debian/copyright's vendored-distribution Comment")
    c.add_argument("--update", type=Path, nargs="?", const=HERE / "debian/copyright", help="write it into this file")
    args = p.parse_args(argv)
    try:
        wheels = locked_wheels(args.wheelhouse, args.requirements)
        graph = runtime_graph(wheels, args.setup)
        if args.command == "bom":
            doc = bom(wheels, graph, args.site, args.version)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(doc, indent=2) + "\n")
        elif args.update:
            args.update.write_text(replace_comment(args.update.read_text(), copyright_comment(wheels, graph)))
        else:
            sys.stdout.write(copyright_comment(wheels, graph))
    except BomError as e:
        print(f"sbom: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
