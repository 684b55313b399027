"""Which distributions count as the bot's dependencies: the rule shared by the BOM and the metric."""

from __future__ import annotations

import importlib.metadata
import re

from rosey_bot import dependencies
from tests.support.paths import ROOT

# Requires-Dist lines of the shapes real wheels carry (flask, click, jinja2, prometheus-client).
WHEELS = {
    "app": ["Flask>=3", "prometheus_client"],
    "flask": ["Jinja2>=3.1.2", "click>=8.1.3", "importlib-metadata>=3.6.0; python_version < '3.10'"],
    "jinja2": ["MarkupSafe>=2.0", 'Babel>=2.7 ; extra == "i18n"'],
    "markupsafe": [],
    "click": ['colorama; platform_system == "Windows"', "flask"],  # a cycle, as some dependency graphs have
    "prometheus-client": ['twisted; extra == "twisted"'],
    "babel": [],
    "colorama": [],
}


def test_closure_follows_requirements_but_not_extras_nor_what_is_absent():
    present = {k: v for k, v in WHEELS.items() if k != "colorama"}
    graph = dependencies.closure(["app"], present.get)
    assert graph == {
        "app": {"flask", "prometheus-client"},
        "flask": {"jinja2", "click"},
        "jinja2": {"markupsafe"},
        "markupsafe": set(),
        "click": {"flask"},
        "prometheus-client": set(),
    }
    # A marker's distribution counts once it is there (the interpreter may import it); an extra's never.
    assert "colorama" in dependencies.closure(["app"], WHEELS.get)["click"]
    assert "babel" not in dependencies.closure(["app"], WHEELS.get)


def test_requirement_names_are_normalised():
    assert dependencies.requirement_name("Prometheus_Client (>=0.1)") == "prometheus-client"
    assert dependencies.requirement_name("zope.interface>=5") == "zope-interface"
    assert dependencies.requirement_name("watchdog>=2.3 ; extra == 'watchdog'") is None


def test_installed_is_the_locked_runtime_set_of_this_venv():
    # The dev venv installs requirements.txt as locked, next to the test tools.
    lock = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    found = dependencies.installed()
    assert "flask" in found and "werkzeug" in found
    assert all(lock.get(name) == version for name, version in found.items()), (found, lock)
    # Neither the test tools beside them nor the build-only pins nor the bot itself.
    assert not {"pytest", "ruff", "setuptools", "wheel", "rosey-bot"} & set(found)
    assert found["werkzeug"] == importlib.metadata.version("werkzeug")
