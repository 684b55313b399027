"""Fixtures for the dashboard tests: real upstream processes and one headless Chromium.

Everything binds 127.0.0.1 on free ports, keeps its data in tmp_path and is
stopped in teardown.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.dashboard import dash_helpers as h


@pytest.fixture
def bot():
    with h.bot_server() as b:
        yield b


@pytest.fixture
def prometheus(tmp_path, bot):
    with h.prometheus(tmp_path, bot.port) as p:
        yield p


@pytest.fixture
def alertmanager(tmp_path):
    with h.alertmanager(tmp_path) as am:
        yield am


@pytest.fixture
def dpkg_log(tmp_path):
    return h.dpkg_log(tmp_path)


@pytest.fixture(scope="module")
def browser():
    """One Debian Chromium per test module, driven by Playwright (never Playwright's own browsers)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=h.CHROMIUM, args=h.CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(browser):
    """A fresh browser context per test; records console errors and every URL the page requested."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    seen = SimpleNamespace(page=page, errors=[], requests=[])
    page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", lambda req: seen.requests.append(req.url))
    try:
        yield seen
    finally:
        context.close()
