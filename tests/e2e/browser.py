"""Headless Chromium driven over the DevTools protocol (no Selenium, no Playwright).

Chromium is Debian's package (`scripts/setup-e2e` installs it). It runs with a fresh
profile, talks to loopback only (every other host name resolves to nothing), and is
started in a session of its own so `ProcessGroup` can prove it is gone afterwards.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
import itertools
import json
from pathlib import Path
import shutil
import tempfile
from typing import Any

import aiohttp

from .harness import LOOPBACK, ProcessGroup, http_json, wait_until

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
COMMAND_TIMEOUT = 30
"""Seconds a DevTools command may take."""

# Text of the whole page, shadow roots included (Home Assistant's UI is web components).
DEEP_TEXT_JS = """
(() => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) parts.push(text);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE
        && node.nodeType !== Node.DOCUMENT_NODE) return;
    if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT') return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document);
  return parts.join('\\n');
})()
"""


def find_chromium() -> str:
    """Return the Chromium executable, or fail saying how to install it."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    raise RuntimeError(
        "Chromium is not installed: run scripts/setup-e2e (apt-get install chromium)"
    )


class DevToolsError(Exception):
    """A DevTools command failed."""


class PageSession:
    """One page target's DevTools websocket: commands out, results and events in."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an open websocket."""
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read(), name="devtools-reader")

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data and (future := self._pending.pop(data["id"], None)):
                if not future.done():
                    future.set_result(data)
            elif "method" in data:
                self.events.append(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(DevToolsError("the DevTools connection closed"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run a DevTools command and return its result."""
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[command_id] = future
        await self._ws.send_json(
            {"id": command_id, "method": method, "params": params or {}}
        )
        async with asyncio.timeout(COMMAND_TIMEOUT):
            reply = await future
        if "error" in reply:
            raise DevToolsError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON) value."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def page_text(self) -> str:
        """Return all text the page shows, through shadow roots."""
        return str(await self.evaluate(DEEP_TEXT_JS) or "")

    async def screenshot(self, path: Path) -> bytes:
        """Save a PNG of the viewport to `path` and return it."""
        result = await self.send("Page.captureScreenshot", {"format": "png"})
        png = base64.b64decode(result["data"])
        await asyncio.to_thread(_write, path, png)
        return png

    async def close(self) -> None:
        """Close the websocket and stop reading."""
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def hass_tokens_script(
    hass_url: str,
    client_id: str,
    access_token: str,
    refresh_token: str,
    expires_in: int,
) -> str:
    """Return a script that logs the frontend in by storing its tokens before it loads.

    It is what the frontend itself stores in `localStorage.hassTokens` after a login.
    """
    tokens = {
        "hassUrl": hass_url,
        "clientId": client_id,
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }
    return f"""
(() => {{
  if (location.origin !== {json.dumps(hass_url)}) return;
  const tokens = {json.dumps(tokens)};
  tokens.expires = Date.now() + tokens.expires_in * 1000;
  localStorage.setItem('hassTokens', JSON.stringify(tokens));
}})();
"""


@contextlib.asynccontextmanager
async def chromium_page(
    group: ProcessGroup, log_dir: Path, width: int = 1440, height: int = 900
) -> AsyncIterator[PageSession]:
    """Start headless Chromium and yield a DevTools session on its first page."""
    profile = Path(tempfile.mkdtemp(prefix="print-sentinel-chromium-"))
    managed = group.start(
        "chromium",
        [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            # nothing but loopback resolves: the page cannot reach the internet
            f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
            f"--remote-debugging-address={LOOPBACK}",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        log_dir / "chromium.log",
    )
    try:
        port_file = profile / "DevToolsActivePort"

        def devtools_port() -> int | None:
            if managed.process.poll() is not None:
                raise RuntimeError(f"chromium exited:\n{managed.log_tail()}")
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            return int(lines[0]) if lines and lines[0].strip() else None

        port = await asyncio.to_thread(
            wait_until, devtools_port, timeout=60, what="Chromium's DevTools port"
        )
        targets = await asyncio.to_thread(
            http_json, "GET", f"http://{LOOPBACK}:{port}/json/list"
        )
        page = next(target for target in targets if target["type"] == "page")
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
            devtools = PageSession(ws)
            try:
                await devtools.send("Page.enable")
                await devtools.send("Runtime.enable")
                await devtools.send("Network.enable")
                await devtools.send(
                    "Emulation.setDeviceMetricsOverride",
                    {
                        "width": width,
                        "height": height,
                        "deviceScaleFactor": 1,
                        "mobile": False,
                    },
                )
                yield devtools
            finally:
                await devtools.close()
    finally:
        await asyncio.to_thread(group.stop, managed)
        shutil.rmtree(profile, ignore_errors=True)
