"""Which Python distributions rosey-bot runs on: its requirements, followed transitively.

One rule for the build's bill of materials (packaging/sbom.py, over the locked
wheels) and for the running bot's ``bot_dependency_info`` metric (over the
installed distributions): follow every requirement that names a distribution
which is there, except those an extra asks for (the bot installs no extras).
A requirement with an environment marker (``colorama; platform_system ==
"Windows"``) is followed only when its distribution is there, so no marker
evaluator is needed: the lock was resolved for this platform, and an installed
distribution is one the interpreter may import.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Iterable

ROOT = "rosey-bot"

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """The normalised name (PEP 503), as pip and purl compare names: ``Prometheus_Client`` -> ``prometheus-client``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The canonical distribution name a Requires-Dist line asks for; None when only an extra asks for it."""
    _, _, marker = requirement.partition(";")
    if re.search(r"\bextra\s*==", marker):
        return None
    match = _NAME.match(requirement)
    return canonical(match.group(1)) if match else None


def closure(roots: Iterable[str], requires: Callable[[str], Iterable[str] | None]) -> dict[str, set[str]]:
    """Every distribution reachable from ``roots``, mapped to the ones it requires.

    ``requires(name)`` gives a present distribution's Requires-Dist lines, or
    None when the distribution is not there (then it is not followed).
    """
    graph: dict[str, set[str]] = {}
    todo = [canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        lines = requires(name)
        if lines is None:
            continue
        graph[name] = {dep for dep in map(requirement_name, lines) if dep}
        todo.extend(graph[name])
    for deps in graph.values():
        deps.intersection_update(graph)
    return graph


def installed() -> dict[str, str]:
    """Canonical name -> version of each distribution the installed rosey-bot runs on (rosey-bot excluded).

    Empty when rosey-bot itself is not installed as a distribution.
    """

    def requires(name: str) -> list[str] | None:
        try:
            return importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            return None

    graph = closure([ROOT], requires)
    graph.pop(ROOT, None)
    return {name: importlib.metadata.version(name) for name in sorted(graph)}
