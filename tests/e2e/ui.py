"""Playwright on Debian's Chromium: a logged-in Home Assistant page that records trouble.

`playwright install` downloads browsers (and cannot here): Playwright from PyPI
drives the system's `chromium` through `executable_path`. Every step keeps a
screenshot; what the user must never see is collected as it happens:

- page text with "Translation error", raw translation keys (`component.print_sentinel.`)
  or unreplaced placeholders (`[%key:`),
- answers of Home Assistant's `/api/` with a status of 500 or more,
- browser console errors or uncaught page errors that name print_sentinel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import re

from playwright.async_api import (
    ConsoleMessage,
    Error as PlaywrightError,
    Locator,
    Page,
    Response,
    async_playwright,
)

from .browser import DEEP_TEXT_JS, find_chromium
from .harness import LOOPBACK

DOMAIN = "print_sentinel"
BAD_TEXT = re.compile(
    r"Translation error[^\n]*|component\.print_sentinel\.[\w.]+|\[%key:[^\]]*\]?"
)
TIMEOUT_MS = 20_000


@dataclass
class UiPage:
    """One logged-in page; `problems` lists what a user should never see."""

    page: Page
    url: str
    screenshots: Path
    problems: list[str] = field(default_factory=list)
    steps: int = 0

    def watch(self) -> None:
        """Record 5xx answers of the API and console errors naming the integration."""

        def on_response(response: Response) -> None:
            if response.url.startswith(f"{self.url}/api/") and response.status >= 500:
                self.problems.append(f"HTTP {response.status} from {response.url}")

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and DOMAIN in message.text:
                self.problems.append(f"console error: {message.text[:500]}")

        def on_page_error(error: PlaywrightError) -> None:
            if DOMAIN in str(error):
                self.problems.append(f"page error: {str(error)[:500]}")

        self.page.on("response", on_response)
        self.page.on("console", on_console)
        self.page.on("pageerror", on_page_error)

    async def text(self) -> str:
        """Return the page's text, shadow roots included (`inner_text` stops at them)."""
        return str(await self.page.evaluate(DEEP_TEXT_JS))

    async def step(self, name: str) -> str:
        """Screenshot this step; record bad text on the page; return the text."""
        self.steps += 1
        await self.page.wait_for_timeout(600)  # let the dialog finish rendering
        path = self.screenshots / f"{self.steps:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        text = await self.text()
        for match in BAD_TEXT.findall(text):
            self.problems.append(f"{name}: shows {match!r}")
        return text

    async def goto(self, path: str) -> None:
        """Open a page of Home Assistant and wait until the frontend has loaded."""
        await self.page.goto(f"{self.url}{path}")
        await self.page.wait_for_load_state("networkidle")

    def dialog(self) -> Locator:
        """Return the open dialog (the config and options flows run in one)."""
        return self.page.locator("dialog-data-entry-flow")

    async def expect_text(self, text: str, within: Locator | None = None) -> None:
        """Wait until `text` is visible."""
        where = within or self.page.locator("body")
        await where.get_by_text(text, exact=False).first.wait_for(timeout=TIMEOUT_MS)

    async def check_text(
        self, text: str, within: Locator | None = None, timeout_ms: int = 8_000
    ) -> bool:
        """Wait for `text`; if it does not appear, record that and go on."""
        where = within or self.page.locator("body")
        try:
            await where.get_by_text(text, exact=False).first.wait_for(
                timeout=timeout_ms
            )
        except PlaywrightError:
            self.problems.append(f"step {self.steps + 1}: {text!r} is not shown")
            return False
        return True


@contextlib.asynccontextmanager
async def logged_in_page(
    url: str, username: str, password: str, screenshots: Path
) -> AsyncIterator[UiPage]:
    """Launch headless Chromium, log in through Home Assistant's login page.

    `screenshots` must exist.
    """
    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        # nothing but loopback resolves: the UI must not need the internet
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=args
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="en-US"
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            ui = UiPage(page, url, screenshots)
            ui.watch()
            try:
                await page.goto(f"{url}/")
                await page.get_by_role("textbox", name="Username").fill(username)
                await page.get_by_role("textbox", name="Password").fill(password)
                await ui.step("login")
                await page.get_by_role("button", name="Log in").click()
                await page.wait_for_url(re.compile(r"^(?!.*auth/authorize).*$"))
                await page.wait_for_load_state("networkidle")
                yield ui
            except BaseException:
                with contextlib.suppress(PlaywrightError):
                    await page.screenshot(path=str(screenshots / "failed.png"))
                raise
        finally:
            await browser.close()
