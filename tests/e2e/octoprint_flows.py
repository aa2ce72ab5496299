"""Core's `octoprint` integration in a real Home Assistant, driven as the UI drives it.

- `add_core_octoprint`: Settings > Add integration > OctoPrint: the form (host, port,
  path, ssl, username), then the progress step while OctoPrint's appkeys plugin waits
  for a person to allow "Home Assistant"; `approve` is that person (it runs in a
  thread while the flow waits), after which the flow creates the entry.
- `core_entities`: core's entities of that entry, from the entity registry.
- `StateChanges`: a websocket subscription to `state_changed` (what the frontend
  listens to), to count button presses while a test waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp

from .client import HomeAssistantClient, poll
from .flows import FLOW, expect_step, field_names
from .harness import HttpError

CORE_DOMAIN = "octoprint"
NOT_PRESSED = ("unavailable",)


async def add_core_octoprint(
    ha: HomeAssistantClient,
    *,
    host: str,
    port: int,
    username: str,
    approve: Callable[[], Any],
    within: float = 120,
) -> dict[str, Any]:
    """Run core's OctoPrint config flow to its end; `approve` allows the key request."""
    step = expect_step(
        dict(
            await ha.post(
                FLOW, {"handler": CORE_DOMAIN, "show_advanced_options": False}
            )
        ),
        "form",
        "user",
    )
    assert {"host", "port", "path", "ssl", "username"} <= set(field_names(step)), step
    flow_id = step["flow_id"]
    step = dict(
        await ha.post(
            f"{FLOW}/{flow_id}",
            {
                "username": username,
                "host": host,
                "port": port,
                "path": "/",
                "ssl": False,
                "verify_ssl": True,
            },
        )
    )
    expect_step(step, "progress", "get_api_key")
    approval = asyncio.create_task(asyncio.to_thread(approve))

    async def current() -> dict[str, Any]:
        if approval.done():
            approval.result()  # fail with the approval's error, if any
        # what the frontend does on `data_entry_flow_progressed`: fetch the flow
        try:
            result = dict(await ha.get(f"{FLOW}/{flow_id}"))
        except HttpError as err:
            if err.status != 404:
                raise
            # the flow ended while we waited (Home Assistant moved it on by itself)
            entries = await ha.get(
                f"/api/config/config_entries/entry?domain={CORE_DOMAIN}"
            )
            if not entries:
                raise AssertionError(
                    f"core's OctoPrint flow ended without an entry: {err}"
                ) from err
            return {"type": "create_entry", "result": entries[0]}
        if result["type"] == "progress_done":
            result = dict(await ha.post(f"{FLOW}/{flow_id}", {}))
        return result

    result = await poll(
        current,
        lambda s: s["type"] not in ("progress", "progress_done"),
        within=within,
        what="core's OctoPrint flow past its 'get_api_key' progress step",
        interval=1,
    )
    await approval
    return result


@dataclass(frozen=True)
class CoreEntities:
    """Core OctoPrint's entities (of one config entry) and their device."""

    entity_ids: list[str]
    device_id: str

    def ending(self, platform: str, suffix: str) -> str:
        """Return the `platform.*suffix` entity, e.g. ("sensor", "current_state")."""
        found = [
            entity_id
            for entity_id in self.entity_ids
            if entity_id.startswith(f"{platform}.") and entity_id.endswith(suffix)
        ]
        assert len(found) == 1, (
            f"expected one {platform}.*{suffix} of core's OctoPrint, found {found} "
            f"among {sorted(self.entity_ids)}"
        )
        return found[0]


async def core_entities(ha: HomeAssistantClient, entry_id: str) -> CoreEntities:
    """Return core OctoPrint's entities of `entry_id`, from the entity registry."""
    registry = await ha.ws({"type": "config/entity_registry/list"})
    mine = [e for e in registry if e.get("config_entry_id") == entry_id]
    devices = {e["device_id"] for e in mine if e.get("device_id")}
    assert len(devices) == 1, f"core's OctoPrint entities on {devices}: {mine}"
    return CoreEntities([e["entity_id"] for e in mine], devices.pop())


@dataclass
class StateChanges:
    """Collects `state_changed` events of some entities over a websocket subscription."""

    ha: HomeAssistantClient
    entity_ids: set[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Self:
        """Subscribe; return once Home Assistant confirmed the subscription."""
        self._task = asyncio.create_task(self._listen())
        waiter = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {self._task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
        if self._task in done:
            waiter.cancel()
            self._task.result()
        assert waiter in done, "the state_changed subscription was never confirmed"
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Unsubscribe (close the websocket)."""
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _listen(self) -> None:
        hass = self.ha.hass
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"{hass.url}/api/websocket") as ws,
        ):
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": hass.access_token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json(
                {"id": 1, "type": "subscribe_events", "event_type": "state_changed"}
            )
            while True:
                message = await ws.receive_json()
                if message.get("type") == "result" and message.get("id") == 1:
                    assert message["success"], message
                    self._ready.set()
                elif message.get("type") == "event":
                    data = message["event"]["data"]
                    if data.get("entity_id") in self.entity_ids:
                        self.events.append(data)

    def presses(self, entity_id: str) -> list[str]:
        """Return the times `entity_id` (a button) was pressed while subscribed.

        A press sets a button's state to the time of the press; a button that
        becomes available again shows its last press, which is not a new one.
        """
        return [
            event["new_state"]["state"]
            for event in self.events
            if event["entity_id"] == entity_id
            and event.get("new_state")
            and event.get("old_state")
            and event["old_state"]["state"] not in NOT_PRESSED
            and event["new_state"]["state"] not in ("unavailable", "unknown")
            and event["new_state"]["state"] != event["old_state"]["state"]
        ]
