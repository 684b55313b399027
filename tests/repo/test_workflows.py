"""The GitHub workflows stay thin and pinned (docs/DESIGN.md#ci-workflows).

Every `run:` is one make target or one script of the tree (what the tests and a
developer run, with secrets passed as environment), every `uses:` names a full
commit SHA with the tag in a comment, everything that changes the repository or
the fleet shares one concurrency group, and code from a fork's pull request
never reaches the self-hosted runner.
"""

import os
import re
import shlex
import subprocess

import pytest
import yaml

from tests.support.paths import ROOT

WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
SHELL_SYNTAX = re.compile(r"[;&|<>`\n]|\$\(")
# Workflows that change the repository host or the servers.
CHANGERS = ("release.yml", "promote.yml", "rollback.yml")
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def steps(workflow: dict):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def run_problem(command: str, targets: set[str]) -> str | None:
    """Why ``command`` is not one make target or one script of the tree (None if it is)."""
    if SHELL_SYNTAX.search(command.strip()):
        return "more than one command (shell syntax)"
    argv = shlex.split(command)
    if argv[0] == "make":
        named = [a for a in argv[1:] if not a.startswith("-") and "=" not in a]
        if len(named) != 1:
            return f"make with {len(named)} targets"
        return None if named[0] in targets else f"no make target {named[0]!r}"
    script = ROOT / argv[0]
    if not (script.is_file() and os.access(script, os.X_OK) and script.resolve().is_relative_to(ROOT)):
        return f"{argv[0]!r} is neither make nor an executable script of the tree"
    return None


def uses_problem(line: str) -> str | None:
    ref, _, comment = line.partition("#")
    if not PINNED.match(ref.strip()):
        return "not pinned by a full commit SHA"
    if not re.match(r"\s*v\d", comment):
        return "no '# vX' comment naming the tag"
    return None


def uses_lines(path) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.M)]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_run_is_one_make_target_or_script(path):
    targets = makefile_targets()
    problems = [
        f"{job}/{step.get('name', step['run'])}: {why}"
        for job, step in steps(yaml.safe_load(path.read_text()))
        if "run" in step and (why := run_problem(step["run"], targets))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha(path):
    lines = uses_lines(path)
    assert lines, f"{path.name} uses no action?"
    problems = [f"{line}: {why}" for line in lines if (why := uses_problem(line))]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_inline_shell_and_moving_tags():
    """The rules above fail on what the workflows held before (inline shell, tags)."""
    targets = makefile_targets()
    assert run_problem('export GNUPGHOME=x\nrepo/publish.sh --root r "$D"', targets)
    assert run_problem("apt-get update -q && apt-get install -y make", targets)
    assert run_problem("make provision deploy", targets)
    assert run_problem("make no-such-target", targets)
    assert run_problem('printf "%s" "$K" | base64 -d', targets)
    assert run_problem("git config --global --add safe.directory x", targets)
    assert run_problem('make ci-publish VERSION="$VERSION"', targets) is None
    assert run_problem("deploy/ci-ssh-setup.sh", targets) is None
    assert uses_problem("actions/checkout@v4")
    assert uses_problem("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683")
    assert uses_problem("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2") is None


def test_one_concurrency_group_for_everything_that_changes_the_repository_or_the_fleet():
    groups = {}
    for name in CHANGERS:
        workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
        concurrency = workflow["concurrency"]
        assert concurrency["cancel-in-progress"] is False, f"{name}: a half-done publish or deploy must finish"
        groups[name] = concurrency["group"]
        assert "${{" not in groups[name], f"{name}: the group must not depend on the run"
    assert len(set(groups.values())) == 1, groups


def test_fork_pull_requests_never_reach_the_self_hosted_runner():
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
        for name, job in workflow["jobs"].items():
            runs_on = job.get("runs-on", [])
            if "self-hosted" not in (runs_on if isinstance(runs_on, list) else [runs_on]):
                continue
            if "pull_request" in triggers or "pull_request_target" in triggers:
                assert SAME_REPO in job.get("if", ""), f"{path.name}/{name} runs fork pull requests on self-hosted"


def test_actionlint_passes():
    proc = subprocess.run([str(ROOT / ".venv/bin/actionlint")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
