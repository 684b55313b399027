"""docs/ROLLBACK-RUNBOOK.md's commands run as written on a server (a booted systemd container).

The ```sh blocks of "One server" and "Restore the database from a backup" run in order, each as one
`sh -e` script, exactly as written, with one substitution: an example version pinned in a block
(`rosey-bot=1.2.2`) becomes the real older release V1. Between the blocks the test only sets the scene
an operator would be in (back on V2 before naming a version; damaged data before restoring).

The server uses the signed repository (file: URI, bind-mounted, as in tests/e2e) and is connected to
the project's fake CyTube server, so "healthy" means in its channel. The fleet section is covered by
tests/fleet (`make rollback`), withdrawing by tests/repo; tests/docs/test_commands.py checks that those
targets and scripts exist.
"""

from __future__ import annotations

import re
import shlex

import pytest

from tests.docs import doccommands as dc
from tests.docs.netlab import private_net
from tests.e2e.test_package_lifecycle import rows, write_rows
from tests.support import apt
from tests.support.container import Container
from tests.support.e2e_releases import V1, V2
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

RUNBOOK = ROOT / "docs/ROLLBACK-RUNBOOK.md"
DB = "/var/lib/rosey-bot/rosey.db"


def run_block(c: Container, block: str) -> str:
    return c.run("set -e\n" + block, timeout=300).stdout


def with_version(block: str, version: str) -> str:
    """The block with its example version (the one in `rosey-bot=X.Y.Z`, also pinned) replaced by ``version``."""
    examples = set(re.findall(r"rosey-bot=(\d+\.\d+\.\d+)\b", block))
    assert len(examples) == 1, f"expected one example `rosey-bot=X.Y.Z` in:\n{block}"
    return block.replace(examples.pop(), version)


def pinned(c: Container) -> str:
    """The version apt keeps rosey-bot at (its candidate, with the runbook's pin applied)."""
    return re.search(r"Candidate: (\S+)", c.run("apt-cache policy rosey-bot").stdout).group(1)


def assert_ready(c: Container, version: str) -> None:
    apt.assert_running(c, version)
    c.run(f"rosey-healthcheck --ready --wait 30 --expect-version {shlex.quote(version)}")
    body = apt.health(c)
    assert body["status"] == "healthy" and body["connected"] is True, body


def chats(c: Container) -> set[str]:
    return {r[3] for r in rows(c)["chat_messages"]}


def test_rollback_runbook_runs_as_written(root_only, repository, base_rootfs, tmp_path):
    one_server = dc.blocks_of_section(RUNBOOK, "One server")
    restore = dc.blocks_of_section(RUNBOOK, "Restore the database from a backup")
    assert len(one_server) == 2 and len(restore) == 1, "the runbook's sections changed shape: update this test"

    with private_net(repository, tmp_path) as net:
        config = f'[server]\nurl = "{net.cytube_url}"\nchannel = "{net.channel}"\n'
        binds = {str(repository): "/srv/apt"}
        with Container(
            base_rootfs, "docs-rollback", binds=binds, private_network=False, extra_args=net.nspawn_args
        ) as c:
            # The scene: V1 configured and in use, then upgraded to V2 (dpkg.log records the upgrade).
            apt.add_repository(c)
            c.write("/etc/rosey-bot/config.toml", config)
            apt.install(c, f"rosey-bot={V1}")
            assert_ready(c, V1)
            write_rows(c, "one")
            apt.install(c, f"rosey-bot={V2}")
            assert_ready(c, V2)
            write_rows(c, "two")
            written = {f"hello {tag} {i}" for tag in ("one", "two") for i in range(25)}

            # "One server", first block: back to the version before the last upgrade, found in dpkg's log.
            out = run_block(c, one_server[0])
            assert f"rolling back to {V1}" in out, out
            assert_ready(c, V1)
            assert pinned(c) == V1, "the newer V2 is offered: only the pin keeps V1"
            assert written <= chats(c), "rows written on V1 and V2 must survive the rollback"

            # Second block: a version named by the operator (the example 1.2.2 is V1), from V2 again
            # (an explicit version overrides the pin, as a fleet deploy does).
            apt.install(c, f"rosey-bot={V2}")
            assert_ready(c, V2)
            out = run_block(c, with_version(one_server[1], V1))
            assert re.search(rf"^\s+{re.escape(V1)} \d+$", out, re.M), f"apt-cache policy lists no {V1}:\n{out}"
            assert_ready(c, V1)
            assert pinned(c) == V1
            assert written <= chats(c)
            assert c.run("cat /etc/rosey-bot/config.toml").stdout == config, "the operator's config must survive"

            # "Restore the database from a backup": take a backup, then the data goes bad, then restore.
            c.run("rosey-bot backup")
            damage = (
                f"import sqlite3\nwith sqlite3.connect({DB!r}) as con:\n    con.execute('DELETE FROM chat_messages')\n"
            )
            c.run(f"runuser -u rosey-bot -- /opt/venvs/rosey-bot/bin/python -c {shlex.quote(damage)}")
            c.run("systemctl restart rosey-bot")
            assert not chats(c) & written, "the damage did not happen"
            out = run_block(c, restore[0])
            assert "restored from" in out, out
            assert_ready(c, V1)
            assert written <= chats(c), "the restore must bring the rows back"
            write_rows(c, "three")  # and the restored database is writable by the service user
            assert {f"hello three {i}" for i in range(25)} <= chats(c)
