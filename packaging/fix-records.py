#!/usr/bin/python3
"""Rewrite the RECORD files of a venv so they describe the files as shipped.

pip hashes the console scripts while their shebang still names the build
directory; dh_virtualenv rewrites the shebang afterwards. The stale hashes
differ from build to build (not reproducible) and are wrong. Entries of files
that the package leaves out are dropped.
Usage: fix-records.py SITE_PACKAGES_DIR
"""

import base64
import csv
import hashlib
import io
import sys
from pathlib import Path


def digest(path: Path) -> str:
    raw = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fix(record: Path) -> None:
    base = record.parent.parent
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(record.read_text().splitlines()):
        name = row[0]
        target = base / name
        if name.endswith("/RECORD"):
            writer.writerow([name, "", ""])
        elif target.is_file():
            writer.writerow([name, digest(target), target.stat().st_size])
    record.write_text(out.getvalue())


if __name__ == "__main__":
    for rec in sorted(Path(sys.argv[1]).glob("*.dist-info/RECORD")):
        fix(rec)
