"""The automation's static checks: ansible-lint, Ansible syntax, actionlint, and workflows call real make targets."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from tests.support.paths import ROOT

from .lab import VENV_BIN

WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
PLAYBOOKS = sorted((ROOT / "deploy/playbooks").glob("*.yml"))


def run(argv: list[str], cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "ANSIBLE_CONFIG": str(ROOT / "deploy/ansible.cfg")}
    env["ANSIBLE_HOME"] = str(ROOT / "build/cache/ansible-home")
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_ansible_lint_production_profile():
    proc = run([str(VENV_BIN / "ansible-lint"), "--profile", "production", "--nocolor"], cwd=ROOT / "deploy")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.mark.parametrize("env", ["test", "production"])
def test_playbooks_parse_with_each_inventory(env):
    inventory = ROOT / "deploy/inventories" / env
    proc = run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "--syntax-check", *map(str, PLAYBOOKS)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    graph = run([str(VENV_BIN / "ansible-inventory"), "-i", str(inventory), "--list"])
    assert graph.returncode == 0, graph.stderr
    assert "rosey_bots" in graph.stdout


def test_actionlint():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml", "rollback.yml"}
    proc = run([str(VENV_BIN / "actionlint"), "-no-color", *map(str, WORKFLOWS)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_call_make_targets_that_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    called = set()
    for wf in WORKFLOWS:
        for job in yaml.safe_load(wf.read_text())["jobs"].values():
            for step in job["steps"]:
                called |= set(re.findall(r"(?:^|&&|;)\s*make ([a-z][\w-]*)", step.get("run", ""), re.M))
    assert called, "the workflows should be thin wrappers around make targets"
    assert called <= targets, f"workflows call make targets the Makefile lacks: {sorted(called - targets)}"
    for name in ("deploy/repo-sync.sh", "deploy/ci-ssh-setup.sh"):
        assert os.access(ROOT / name, os.X_OK), f"{name} must be executable"


def test_a_run_against_no_bot_hosts_fails(tmp_path):
    # Otherwise `make audit ENV=prod EXPECT=1.2.3` "passes" having looked at nothing.
    empty = tmp_path / "hosts.yml"
    empty.write_text("rosey_bots:\n  hosts: {}\n")
    for inventory in (tmp_path / "no-such-inventory", empty):
        for playbook in PLAYBOOKS:
            if playbook.name == "inventory-check.yml":
                continue
            argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
            proc = run([*argv, "-e", "rosey_expect_version=1.0.0", "-e", "rosey_version=1.0.0"])
            assert proc.returncode != 0, f"{playbook.name} with {inventory.name}: {proc.stdout[-2000:]}"
    proc = run(["make", "--no-print-directory", "audit", "ENV=no-such-env", "EXPECT=1.0.0"])
    assert proc.returncode != 0
    assert "ENV=no-such-env: no deploy/inventories/no-such-env (there are: production test)" in proc.stderr
