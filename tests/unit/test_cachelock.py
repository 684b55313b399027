"""A cache entry that parallel workers all miss is made once (tests/support/cachelock.py)."""

import multiprocessing
import time
from pathlib import Path

from tests.support import cachelock


def _worker(entry: str, log: str) -> None:
    target = Path(entry)

    def make():
        with open(log, "a") as f:
            f.write("made\n")
        time.sleep(0.3)  # long enough for the other workers to miss the entry and queue on the lock
        target.write_text("done")

    cachelock.made_once(target, target.exists, make)
    assert target.read_text() == "done"


def test_workers_that_miss_together_make_the_entry_once(tmp_path):
    entry, log = tmp_path / "cache" / "entry", tmp_path / "log"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(str(entry), str(log))) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert log.read_text().splitlines() == ["made"]
