"""Which files make up the configuration, in which order, and which file set each key.

Beside the main file (``/etc/rosey-bot/config.toml``), read in this order, a
later file's key replacing an earlier one's (per key within a table, so a
drop-in that sets ``[server] channel`` leaves ``[server] url`` alone):

1. ``debconf.toml``: the answers given to debconf, written only by the
   package's postinst. It is the base: everything the operator writes wins
   over it (docs/DESIGN.md, Config layers).
2. the main file, the operator's conffile;
3. ``conf.d/*.toml`` in name order: the operator's own drop-ins.

A leaf module: it reads nothing itself (the caller passes the reader that
turns a path into a TOML table), so config.py stays the one owner of parsing
and validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_NAME = "debconf.toml"
DROPIN_DIR = "conf.d"


def base_path(main: Path | str) -> Path:
    return Path(main).parent / BASE_NAME


def dropin_paths(main: Path | str) -> list[Path]:
    """The operator's drop-ins, in the order they are read (hidden files and other suffixes skipped)."""
    directory = Path(main).parent / DROPIN_DIR
    try:
        names = sorted(p.name for p in directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [directory / n for n in names if n.endswith(".toml") and not n.startswith(".")]


def files(main: Path | str) -> list[Path]:
    """Every file that takes part, in reading order; the main file always (it must exist)."""
    main = Path(main)
    base = base_path(main)
    return ([base] if base.exists() else []) + [main] + dropin_paths(main)


@dataclass
class Layered:
    """The merged tables, and for every ``section`` and ``section.key`` the file that set it last."""

    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Path] = field(default_factory=dict)

    def source_of(self, key: str | None) -> Path | None:
        """The file to blame for ``key`` (dotted): its own, else its table's."""
        if not key:
            return None
        return self.origin.get(key) or self.origin.get(key.split(".", 1)[0])


def merge(layers: list[tuple[Path, dict[str, Any]]]) -> Layered:
    out = Layered()
    for path, table in layers:
        for section, value in table.items():
            if isinstance(value, dict) and isinstance(out.data.get(section, {}), dict):
                target = out.data.setdefault(section, {})
                out.origin.setdefault(section, path)
                for key, item in value.items():
                    target[key] = item
                    out.origin[f"{section}.{key}"] = path
            else:
                # Not a table: keep it whole so validation names this file.
                out.data[section] = value
                out.origin[section] = path
    return out


def read(main: Path | str, reader: Callable[[Path], dict[str, Any]]) -> Layered:
    return merge([(path, reader(path)) for path in files(main)])
