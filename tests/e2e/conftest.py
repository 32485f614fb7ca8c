"""Fixtures for the browser tests: the stack, Debian's Chromium under Playwright, a fresh page per test.

Chromium is never downloaded: `make browser` (a prerequisite of `make test`) installs Debian's package.
When it is missing, every test here fails with that instruction instead of being skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack, running_stack

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
# As root in a container with no network but loopback: no sandbox, no GPU, and no background calls home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]
# Screenshots land in tests/artifacts (ignored by git); `make screenshots` points this at docs/screenshots.
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS", ROOT / "tests" / "artifacts" / "screenshots"))
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    with running_stack() as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"Debian's Chromium is not installed at {CHROMIUM}: run `make browser` "
                    "(apt-get install chromium); the end-to-end tests need it.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed: run `make venv` (the dev extras pin it).", pytrace=False)
    with sync_playwright() as playwright:
        # launch() starts Chromium on a new, empty user data directory of its own, removed on close.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_page(browser: Any, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    # A far-away time zone: the page must show the market's dates whatever the device's zone is.
    context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    return context, page, problems


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    stack.reset()
    context, page, problems = new_page(browser, DESKTOP)
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture
def phone(browser: Any, stack: Stack) -> Iterator[Any]:
    stack.reset()
    context, page, problems = new_page(browser, PHONE)
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture
def screenshot() -> Any:
    def save(page: Any, name: str, *, full_page: bool = True, of: Any = None, until: Any = None) -> None:
        """The page as SCREENSHOTS/name.png: whole, one element (`of`), or from the top down to `until`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = str(SCREENSHOTS / f"{name}.png")
        if of is not None:
            of.screenshot(path=path)
        elif until is not None:
            box = until.evaluate("el => { const r = el.getBoundingClientRect(); return r.bottom + window.scrollY; }")
            width = page.viewport_size["width"]
            page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": box + 16})
        else:
            page.screenshot(path=path, full_page=full_page)
    return save
