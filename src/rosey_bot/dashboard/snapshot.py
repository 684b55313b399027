"""The dashboard's copy of the bot's config: every layer merged, secrets dropped, only what it reads.

Under systemd the dashboard runs as a DynamicUser in no group of the bot's, so it
cannot open /etc/rosey-bot (0750 root:rosey-bot) nor the password file there. Its
unit first runs ``rosey-dashboard --export-config`` as root (``ExecStartPre=-+``):
that loads the config exactly as the bot does (``config.load_layered``, every
layer of docs/DESIGN.md#config-layers) but with ``secrets=False``, and writes the
tables the dashboard reads into the unit's RuntimeDirectory (0700: only the
dashboard's user and root enter it). The dashboard then reads that file.

The file is the ``rosey-bot check-config --sources`` lines of those tables (each
key, its effective value, the file that set it), so an operator who finds a
value there also finds where to change it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .. import answers, config, layers

# What the dashboard reads: Config.dashboard, and [health] for Config.bot_health_url.
SECTIONS = ("health", "dashboard")


def render(main: Path) -> str:
    """The snapshot's text, or a ConfigError (one line) when the config is invalid."""
    cfg, merged = config.load_layered(main, secrets=False)
    # A file name is only a comment here, but one with a newline in it would end the comment.
    origins = layers.Layered(merged.data, {key: config.one_line(str(path)) for key, path in merged.origin.items()})
    lines = [line for line in config.effective_lines(cfg, origins) if line.split(".", 1)[0] in SECTIONS]
    source = config.one_line(str(main))
    header = [
        f"# rosey-dashboard's copy of {source} and the files beside it, with the tables it reads.",
        "# Written by `rosey-dashboard --export-config` each time rosey-dashboard.service starts.",
        "# Do not edit: change the file named after each key, then: systemctl restart rosey-dashboard",
        "",
    ]
    return "\n".join(header + lines) + "\n"


def export(main: Path, target: Path) -> None:
    """Write the snapshot of ``main`` to ``target``; a bad config (ConfigError) writes nothing.

    Replaced atomically, 0640 with the group of ``target``'s directory (the
    dynamic user's, in the unit's RuntimeDirectory); OSError when it cannot be written.
    """
    try:
        text = render(main)
    except config.ConfigError:
        # Nor leaves an older copy: the unit goes on to start the dashboard from
        # ``target`` (its ExecStartPre may fail), which must then find nothing to serve.
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        raise
    answers.write_layer(target, text)
