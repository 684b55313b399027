"""The version this process reports: the installed Debian package version.

Python's version scheme cannot express Debian's ``1.2.4~dev3`` (the tilde is
what makes a pre-release sort below the release), so the package build stamps
the exact Debian version into a file inside the virtualenv it ships.
A development checkout falls back to the Python distribution's version.
"""

import sys
from pathlib import Path

STAMP = Path(sys.prefix) / "rosey-bot.version"
# The Debian-native flavour has no venv of its own: its build stamps the
# package directory instead (debian/native/rules.mk).
NATIVE_STAMP = Path(__file__).with_name("debian.version")


def installed_version() -> str:
    for stamp in (STAMP, NATIVE_STAMP):
        try:
            return stamp.read_text(encoding="utf-8").strip()
        except OSError:
            pass
    # Only a development checkout gets here: importlib.metadata costs every command start-up ~40 ms.
    from importlib import metadata

    try:
        return metadata.version("rosey-bot")
    except metadata.PackageNotFoundError:
        return "0+unknown"
