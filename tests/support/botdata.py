"""Rows in the bot's database inside a test container: written through the product's storage layer, read back raw.

Every lifecycle test writes rows before a transition and checks they are all
still there after it ("nothing lost").
"""

from __future__ import annotations

import json
import shlex

from .container import Container

DB = "/var/lib/rosey-bot/rosey.db"


def write_rows(c: Container, tag: str, n: int = 25) -> None:
    """Rows written through the product's own storage layer, as the service user."""
    script = (
        "import time\n"
        "from rosey_bot.storage import Database\n"
        f"db = Database({DB!r})\n"
        "now = int(time.time() * 1000)\n"
        f"for i in range({n}):\n"
        f"    db.user_joined('user{tag}%d' % i, 1, now)\n"
        f"    db.record_chat('user{tag}%d' % i, 'hello {tag} %d' % i, now + i)\n"
        f"db.record_user_count({n}, now)\n"
        "db.close()\n"
    )
    # The bot's own interpreter, whichever flavour is installed: its command's #! line.
    c.run(f"runuser -u rosey-bot -- $(sed -n '1s/^#!//p' /usr/bin/rosey-bot) -c {shlex.quote(script)}")


def rows(c: Container) -> dict:
    """Every table's rows (and PRAGMA user_version), read-only with the system's sqlite3."""
    script = (
        "import sqlite3, json\n"
        f"con = sqlite3.connect('file:{DB}?mode=ro', uri=True)\n"
        "out = {t: [list(r) for r in con.execute(f'SELECT * FROM {t} ORDER BY 1')]\n"
        "       for (t,) in con.execute(\"SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1\")}\n"
        "out['user_version'] = con.execute('PRAGMA user_version').fetchone()[0]\n"
        "print(json.dumps(out))\n"
    )
    return json.loads(c.run(f"python3 -c {shlex.quote(script)}").stdout)


# Rows the running bot updates in place (last seen, counts): the same key must still be there.
UPDATED_IN_PLACE = {"users"}


def assert_rows_kept(before: dict, after: dict) -> None:
    """Every row of ``before`` is still in ``after``, unchanged (a migration may add columns: compare the
    leading ones); rows of UPDATED_IN_PLACE tables by their first column, the key."""
    for table, old in before.items():
        if table == "user_version":
            continue
        assert table in after, f"table {table} is gone"
        width = 1 if table in UPDATED_IN_PLACE else max((len(r) for r in old), default=0)
        kept = {tuple(r[:width]) for r in after[table]}
        lost = [r for r in old if tuple(r[:width]) not in kept]
        assert not lost, f"{len(lost)} row(s) of {table} lost, e.g. {lost[:3]}"
