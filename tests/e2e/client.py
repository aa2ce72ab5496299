"""An asyncio client for a running Home Assistant: REST and websocket, as the UI uses them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import itertools
from typing import Any

import aiohttp

from .harness import HomeAssistantInstance, HttpError


class HomeAssistantClient:
    """Talks to Home Assistant with the owner's access token."""

    def __init__(
        self, session: aiohttp.ClientSession, hass: HomeAssistantInstance
    ) -> None:
        """Use `session` for every request."""
        self._session = session
        self.hass = hass
        self._headers = {"Authorization": f"Bearer {hass.access_token}"}
        self._ids = itertools.count(1)

    async def request(
        self, method: str, path: str, body: Any = None, expect: int = 200
    ) -> Any:
        """Call the REST API; fail unless the answer has status `expect`."""
        async with self._session.request(
            method, f"{self.hass.url}{path}", json=body, headers=self._headers
        ) as response:
            text = await response.text()
            if response.status != expect:
                if response.status >= 500:
                    text += f"\n--- Home Assistant's last error ---\n{self.hass.last_error()}"
                raise HttpError(method, path, response.status, text)
            return await response.json() if text.strip() else None

    async def fetch(self, path: str) -> tuple[int, str, bytes]:
        """GET any resource (an image, say): status, content type and body."""
        async with self._session.get(
            f"{self.hass.url}{path}", headers=self._headers
        ) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                await response.read(),
            )

    async def get(self, path: str) -> Any:
        """GET a REST resource."""
        return await self.request("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        """POST to a REST resource."""
        return await self.request("POST", path, body)

    async def state(self, entity_id: str) -> dict[str, Any]:
        """Return an entity's state object."""
        return dict(await self.get(f"/api/states/{entity_id}"))

    async def ws(self, message: dict[str, Any]) -> Any:
        """Send one websocket command (as the frontend does) and return its result."""
        async with self._session.ws_connect(f"{self.hass.url}/api/websocket") as ws:
            hello = await ws.receive_json()
            assert hello["type"] == "auth_required", hello
            await ws.send_json({"type": "auth", "access_token": self.hass.access_token})
            auth = await ws.receive_json()
            assert auth["type"] == "auth_ok", auth
            command_id = next(self._ids)
            await ws.send_json({"id": command_id, **message})
            while True:
                reply = await ws.receive_json(timeout=30)
                if reply.get("id") == command_id and reply["type"] == "result":
                    break
            if not reply["success"]:
                raise AssertionError(
                    f"websocket {message['type']} failed: {reply['error']}"
                )
            return reply["result"]

    async def wait_for_state(
        self,
        entity_id: str,
        check: Callable[[dict[str, Any]], bool],
        *,
        within: float = 30,
        what: str,
    ) -> dict[str, Any]:
        """Poll an entity until `check(state)` holds; fail with the last state seen."""

        async def read() -> dict[str, Any] | None:
            try:
                return await self.state(entity_id)
            except HttpError as err:
                if err.status != 404:  # not there yet
                    raise
                return None

        state = await poll(
            read,
            lambda s: s is not None and check(s),
            within=within,
            what=f"{entity_id} {what}",
        )
        assert state is not None
        return state


async def poll[T](
    read: Callable[[], Awaitable[T]],
    check: Callable[[T], bool],
    *,
    within: float,
    what: str,
    interval: float = 0.5,
) -> T:
    """Call `read` until `check` accepts its value; fail after `within` seconds."""
    last: T | None = None
    try:
        async with asyncio.timeout(within):
            while True:
                last = await read()
                if check(last):
                    return last
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(
            f"never saw {what} within {within:.0f} s; last seen: {last}"
        ) from None
