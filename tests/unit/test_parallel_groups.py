"""`make test` keeps a module that shares one booted setup on one worker (docs/DESIGN.md#test-rules).

It relies on pytest-xdist's ``--dist loadgroup`` honouring a module's ``xdist_group`` mark. When it
does not (pytest-xdist 3.8 under pytest 9.2 spreads such a module over every worker), the fleet
tests each boot a lab of their own and run out of order: this test says why, first.
"""

import os
import subprocess
import sys
import textwrap

GROUPED_MODULE = textwrap.dedent(
    """
    import os
    import pytest

    pytestmark = pytest.mark.xdist_group("one-setup")

    @pytest.mark.parametrize("i", range(8))
    def test_records_its_worker(i):
        with open(os.environ["WORKERS_FILE"], "a") as f:
            f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
    """
)


def test_loadgroup_keeps_a_marked_module_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED_MODULE)
    (tmp_path / "test_free.py").write_text("def test_free():\n    pass\n")
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "3", "--dist", "loadgroup"]
    argv += ["--basetemp", str(tmp_path / "base"), "--rootdir", str(tmp_path), str(tmp_path)]
    record = tmp_path / "workers"
    env = {**os.environ, "WORKERS_FILE": str(record)}
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers = record.read_text().split()
    assert len(workers) == 8, workers
    assert len(set(workers)) == 1, f"one xdist_group ran on several workers: {sorted(workers)}"


def test_the_long_modules_started_first_exist():
    """A renamed module would silently drop out of tests/conftest.py's START_FIRST and start last again."""
    from tests.conftest import START_FIRST
    from tests.support.paths import ROOT

    missing = [module for module in START_FIRST if not (ROOT / module).is_file()]
    assert missing == [], f"tests/conftest.py START_FIRST names modules that do not exist: {missing}"
