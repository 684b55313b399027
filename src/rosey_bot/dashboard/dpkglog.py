"""Deployment history from dpkg's log (/var/log/dpkg.log and its rotations).

dpkg writes one line per step, in local time without a zone:

    2026-11-26 10:00:00 install rosey-bot:amd64 <none> 1.0.0
    2026-11-26 10:00:01 upgrade rosey-bot:amd64 1.0.0 1.0.1
    2026-11-26 10:00:02 status installed rosey-bot:amd64 1.0.1
    2026-11-26 10:00:03 remove rosey-bot:amd64 1.0.1 <none>

Actions become events; a later ``status`` line for the same package says
whether the action finished (dpkg leaves "half-installed" and the like when a
maintainer script fails, e.g. the post-install health gate).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .debversion import compare

ACTIONS = ("install", "upgrade", "remove", "purge")
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\S+) (.*)$")
# The state a finished action leaves the package in.
_DONE = {
    "install": "installed",
    "upgrade": "installed",
    "remove": ("config-files", "not-installed"),
    "purge": "not-installed",
}


@dataclass
class Event:
    time: str  # "YYYY-MM-DD HH:MM:SS", the host's local time as dpkg wrote it
    action: str  # install | upgrade | downgrade | reinstall | remove | purge
    from_version: str | None
    to_version: str | None
    completed: bool = False

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class History:
    events: list[Event]  # newest first
    installed_version: str | None  # from the last status line; None when not installed or unknown
    status: str | None  # dpkg's last status word for the package

    def to_json(self) -> dict:
        return {
            "installed_version": self.installed_version,
            "status": self.status,
            "events": [e.to_json() for e in self.events],
        }


def _version(field: str) -> str | None:
    return None if field == "<none>" else field


def _package_matches(field: str, package: str) -> bool:
    return field == package or field.startswith(package + ":")


def parse_lines(lines, package: str = "rosey-bot") -> History:
    """Lines oldest first (as dpkg appends them); unrelated or malformed lines are skipped."""
    events: list[Event] = []
    pending: Event | None = None
    installed: str | None = None
    status: str | None = None
    for line in lines:
        m = _LINE.match(line.rstrip("\n"))
        if not m:
            continue
        when, word, rest = m.groups()
        fields = rest.split()
        if word in ACTIONS and len(fields) == 3 and _package_matches(fields[0], package):
            old, new = _version(fields[1]), _version(fields[2])
            action = word
            if word == "upgrade" and old and new:
                order = compare(new, old)
                action = "upgrade" if order > 0 else "downgrade" if order < 0 else "reinstall"
            elif word in ("remove", "purge"):
                new = None  # dpkg writes "<none>"; some versions repeat the old one
            pending = Event(when, action, old, new)
            events.append(pending)
        elif word == "status" and len(fields) == 3 and _package_matches(fields[1], package):
            status, version = fields[0], _version(fields[2])
            installed = version if status == "installed" else None
            if pending and _finished(pending, status, version):
                pending.completed = True
                pending = None
    events.reverse()
    return History(events=events, installed_version=installed, status=status)


def _finished(event: Event, status: str, version: str | None) -> bool:
    kind = "upgrade" if event.action in ("downgrade", "reinstall") else event.action
    done = _DONE[kind]
    if status not in (done if isinstance(done, tuple) else (done,)):
        return False
    return kind not in ("install", "upgrade") or version == event.to_version


def log_files(path: str | Path) -> list[Path]:
    """The log and its logrotate siblings (.1, .2.gz, ...), oldest first."""
    path = Path(path)
    rotated = []
    for sibling in path.parent.glob(path.name + ".*"):
        suffix = sibling.name[len(path.name) + 1 :].removesuffix(".gz")
        if suffix.isdigit():
            rotated.append((int(suffix), sibling))
    files = [p for _, p in sorted(rotated, reverse=True)]
    if path.exists():
        files.append(path)
    return files


def read_history(path: str | Path, package: str = "rosey-bot", limit: int = 100) -> History:
    """Parse the log and its rotations; raises OSError when the current log cannot be read."""

    def lines():
        for p in log_files(path):
            opener = gzip.open if p.suffix == ".gz" else open
            try:
                with opener(p, "rt", encoding="utf-8", errors="replace") as fh:
                    yield from fh
            except OSError:
                if p == Path(path):
                    raise
                # A rotated file vanishing or unreadable mid-read only shortens history.

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    history = parse_lines(lines(), package)
    history.events = history.events[:limit]
    return history
