"""Playwright driving Debian's Chromium (never a browser Playwright downloads).

Set MUTUALIST_CHROMIUM to another binary; set MUTUALIST_REQUIRE_BROWSER=1 (CI does) to fail
instead of skipping when no Chromium is installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("MUTUALIST_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("MUTUALIST_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "No Chromium found; install Debian's chromium package or set MUTUALIST_CHROMIUM"
            )
        pytest.skip("No Chromium installed (apt-get install chromium) - browser tests skipped")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the tests' own ORM calls are
    # still synchronous and run between browser steps, so Django's async guard does not apply.
    # Set only while browsers run, so it cannot leak into other tests' subprocesses.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=path,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    yield page
    page.close()
    browser.clear_cookies()


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, live_server: Any) -> Any:
    """pytest-django's live server, started only once the test database exists.

    The server shares the test thread's connection only when it sees an in-memory SQLite
    database as it starts (as Django's LiveServerTestCase does). Started first, it saw the
    settings' file name instead, and its request threads opened connections of their own to
    the in-memory database's shared cache: there a read in one connection locks the table
    against a write in another, and a test that wrote while a page of the previous test was
    still being served failed with "database table is locked"."""
    return live_server
