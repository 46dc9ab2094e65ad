"""Browser fixtures: Debian's headless Chromium driven by Playwright against `live_server`.

Playwright's sync API runs an event loop in the test's thread, and Django refuses database work
from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set: it must be set before
any test runs, so it is set here, when pytest imports this file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Set AML_E2E_SCREENSHOTS=/some/folder to keep every step's screenshot after the run.
SCREENSHOT_FOLDER_VARIABLE = "AML_E2E_SCREENSHOTS"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (about a second to start), closed after it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (`make system-test-deps` installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserSession:
    """A page of a fresh browser context, the URLs it requested, and step screenshots."""

    page: Any
    base_url: str
    screenshots: Path
    requested: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)  # uncaught errors and console.error lines
    details: list[Callable[[], str]] = field(default_factory=list)
    shots: int = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def screenshot(self, name: str) -> Path:
        self.shots += 1
        path = self.screenshots / f"{self.shots:02d}-{_slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """One step of a scenario: screenshot it when done; on failure name the screenshot."""
        try:
            yield
        except Exception as exc:
            try:
                shot = f"screenshot: {self.screenshot(f'failed {name}')}"
            except Exception as screenshot_error:  # the page itself may be gone
                shot = f"no screenshot: {screenshot_error}"
            extra = "".join(f"\n{describe()}" for describe in self.details)
            raise AssertionError(
                f"step {name!r} failed at {self.page.url}: {exc}\n{shot}{extra}"
            ) from exc
        self.screenshot(name)

    def sign_in(self, username: str, password: str) -> None:
        """Through the login page, which every page sends an anonymous visitor to."""
        from playwright.sync_api import expect

        self.page.goto(self.url("/"))
        expect(self.page).to_have_url(re.compile(r"/accounts/login/"))
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(self.url("/"))
        expect(self.page.locator("header .who")).to_have_text(username)

    def record_js_error(self, text: str) -> None:
        self.js_errors.append(f"{self.page.url}: {text}")

    def foreign_requests(self) -> list[str]:
        """Requests that went anywhere but the live server (data: and blob: URLs stay local)."""
        return [
            url
            for url in self.requested
            if not url.startswith((self.base_url + "/", "data:", "blob:")) and url != self.base_url
        ]


@pytest.fixture
def browser_session(
    chromium: Any, live_server: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BrowserSession]:
    kept = os.environ.get(SCREENSHOT_FOLDER_VARIABLE)
    folder = Path(kept) / _slug(request.node.name) if kept else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=False)
    context.set_default_timeout(15_000)
    session = BrowserSession(context.new_page(), live_server.url, folder)
    context.on("request", lambda request: session.requested.append(request.url))
    session.page.on("pageerror", lambda error: session.record_js_error(str(error)))
    session.page.on(
        "console",
        lambda message: session.record_js_error(message.text) if message.type == "error" else None,
    )
    try:
        yield session
    finally:
        context.close()
