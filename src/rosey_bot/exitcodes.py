"""The exit statuses of every rosey-bot command: the one table the code, docs/DESIGN.md and the man pages share.

BSD's sysexits.h where a code fits (``os.EX_*``), so automation can tell
"fix the config" (78, which the units' RestartPreventExitStatus= keeps
systemd from restart-looping on) from "nothing answered" (69) from "you typed
it wrong" (64). 1 stays the plain "the command ran and the answer is no".
argparse would exit 2 on a usage error; ``CommandParser`` makes that 64, so 2
means nothing here.

The docs render this table (``markdown_table``, ``man_exit_status``) and a
test compares them, so the text cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from .version import installed_version

OK = 0
FAILURE = 1
EX_USAGE = os.EX_USAGE  # 64
EX_UNAVAILABLE = os.EX_UNAVAILABLE  # 69
EX_CONFIG = os.EX_CONFIG  # 78

NAMES = {OK: "", FAILURE: "", EX_USAGE: "EX_USAGE", EX_UNAVAILABLE: "EX_UNAVAILABLE", EX_CONFIG: "EX_CONFIG"}

USAGE = "usage error, with argparse's message"

# command -> {status: what it means for that command}. Every command has 0 and 64.
TABLE: dict[str, dict[int, str]] = {
    "rosey-bot run": {
        OK: "stopped by SIGTERM/SIGINT",
        FAILURE: "database unusable (one line)",
        EX_USAGE: USAGE,
        EX_CONFIG: "config error (including a health address or port it cannot listen on), or not configured",
    },
    "rosey-bot check-config": {
        OK: "valid",
        FAILURE: "`--user`: the check as that user could not run",
        EX_USAGE: USAGE + "; `--user` names no such user, or a non-root caller names another",
        EX_CONFIG: "invalid (or not configured, with `--require-server`; or unreadable as `--user`)",
    },
    "rosey-bot backup/restore/migrate/db-info": {
        OK: "done",
        FAILURE: "failed (one line)",
        EX_USAGE: USAGE,
        EX_CONFIG: "config error",
    },
    "rosey-healthcheck": {
        OK: "answered as asked",
        FAILURE: "answered, but not as asked by the deadline (one line)",
        EX_USAGE: USAGE,
        EX_UNAVAILABLE: "nothing answered at the health URL by the deadline (one line)",
    },
    "rosey-report": {
        OK: "PASS",
        FAILURE: "FAIL, or no data for the period",
        EX_USAGE: USAGE,
        EX_UNAVAILABLE: "Prometheus unreachable or refusing the query (one line)",
    },
    "rosey-dashboard": {
        OK: "stopped by SIGTERM/SIGINT; `--export-config`: written",
        FAILURE: "`--export-config`: the file could not be written (one line)",
        EX_USAGE: USAGE,
        EX_CONFIG: "config error (including an address or port it cannot listen on)",
    },
}
# Said once above the table, not in every row.
HELP_AND_VERSION = (
    "Every command and subcommand takes `--help` and `--version` (the installed package version), and exits 0."
)


class CommandParser(argparse.ArgumentParser):
    """argparse with ``--version`` (the installed package version) and usage errors as 64, not 2.

    Subcommand parsers are made with the parent's class, so they get both too.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        program = self.prog.split()[0]
        self.add_argument("--version", action=_VersionAction, program=program)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


class _VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked (not at every start-up)."""

    def __init__(self, option_strings, dest, program: str, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show the installed version and exit", **kwargs)
        self.program = program

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        print(f"{self.program} {installed_version()}")
        parser.exit(OK)


def _label(code: int) -> str:
    return f"{code} ({NAMES[code]})" if NAMES[code] else str(code)


def codes() -> list[int]:
    return sorted({code for meanings in TABLE.values() for code in meanings})


def markdown_table() -> str:
    """The table docs/DESIGN.md carries, one column per status, after the sentence on --help/--version."""
    cols = codes()
    lines = [
        HELP_AND_VERSION,
        "",
        "| command | " + " | ".join(_label(c) for c in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for command, meanings in TABLE.items():
        lines.append(f"| `{command}` | " + " | ".join(meanings.get(c, "") for c in cols) + " |")
    return "\n".join(lines)


def man_exit_status(program: str) -> str:
    """The roff EXIT STATUS section of ``program``'s man page."""
    out = [".SH EXIT STATUS", _roff(HELP_AND_VERSION)]
    for command, meanings in TABLE.items():
        if command.split()[0] != program:
            continue
        if command != program:
            out.append(f".SS {command}")
        for code, meaning in sorted(meanings.items()):
            out += [".TP", f".B {_label(code)}", _roff(meaning)]
    return "\n".join(out)


def _roff(text: str) -> str:
    # `code` in the markdown becomes bold; hyphens in options are escaped.
    parts = text.replace("-", "\\-").split("`")
    return "".join(f"\\fB{p}\\fR" if i % 2 else p for i, p in enumerate(parts))
