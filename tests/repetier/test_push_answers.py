"""Repetier-Server's push socket when its answers stop or go wrong mid-connection,
a key that a URL must encode, and a server with many printers."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from custom_components.print_sentinel.printers import repetier_socket
from custom_components.print_sentinel.printers.repetier_socket import _redact
from simulators.repetier import RepetierSimulator

from ..common import advance
from .test_push import SLUG, STATE, backend, http_polls, state, until, wait

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect after 0.1 s, no heartbeat, answers within 0.3 s (see test_push)."""
    monkeypatch.setattr(repetier_socket, "BACKOFF", (0.1,))
    monkeypatch.setattr(repetier_socket, "HEARTBEAT", None)
    monkeypatch.setattr(repetier_socket, "TEMP_RESYNC_SECONDS", 0.0)
    monkeypatch.setattr(repetier_socket, "IDLE_TEMP_RESYNC_SECONDS", 0.0)
    monkeypatch.setattr(repetier_socket, "REQUEST_TIMEOUT", 0.3)  # 10 s in real life


async def _watch(
    hass: HomeAssistant, sim: RepetierSimulator, api_key: str = "k"
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Prusa i3",
        unique_id=f"{sim.server_uuid}_{SLUG}",
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: sim.port,
            CONF_API_KEY: api_key,
            CONF_PRINTER_SLUG: SLUG,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _stop(hass: HomeAssistant, sim: RepetierSimulator) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await sim.stop()


@pytest.mark.parametrize("answer", ["lost", "error"])
async def test_a_socket_whose_answers_stop_or_go_wrong_is_dropped_for_polling(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    answer: str,
) -> None:
    """The print shows (by polling), not the state of the last good answer."""
    sim = RepetierSimulator(api_key="k", printers=[(SLUG, "Prusa i3")])
    await sim.start("127.0.0.1", 0)
    try:
        entry = await _watch(hass, sim)
        await until(hass, freezer, lambda: backend(entry).pushing)
        sim.requests.clear()
        if answer == "lost":  # answers that match no request
            sim.socket_raw_answers["listPrinter"] = '{"callback_id": -7, "data": []}'
        else:
            original = sim._socket_request

            async def busy(ws: web.WebSocketResponse, text: str) -> None:
                request = json.loads(text)
                if request.get("action") == "listPrinter":
                    await ws.send_str(
                        json.dumps(
                            {"callback_id": request["callback_id"], "data": {"e": 1}}
                        )
                    )
                    return
                await original(ws, text)

            sim._socket_request = busy  # type: ignore[method-assign]
        sim.start_job(SLUG, duration=3600)  # pushes jobStarted
        await wait(hass, freezer, 1.0)
        for _ in range(3):
            sim.advance(30)
            await advance(hass, freezer, 31)
            await wait(hass, freezer, 0.05)
        assert state(hass, STATE) == "printing"
        assert "listPrinter" in http_polls(sim)
        assert not backend(entry).pushing
        assert "Traceback" not in caplog.text
    finally:
        await _stop(hass, sim)


async def test_an_api_key_a_url_must_encode_is_not_logged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy that passes no websockets: the one warning names no key."""
    key = "Pk+Secret&Key=9911 x"
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(repetier_socket, "PUSH_DOWN_GRACE", 0.5)  # 120 s really
    sim = RepetierSimulator(api_key=key, printers=[(SLUG, "Prusa i3")])
    await sim.start("127.0.0.1", 0)
    sim.websocket = False  # HTTP 404 for /socket/
    try:
        await _watch(hass, sim, key)
        for _ in range(6):
            await advance(hass, freezer, 31)
            await wait(hass, freezer, 0.15)
        warnings = [
            r.getMessage()
            for r in caplog.records
            if r.levelno >= logging.WARNING and "push connection" in r.getMessage()
        ]
        assert len(warnings) == 1
        for form in (key, "Pk%2BSecret", "Pk+Secret", "9911"):
            assert form not in caplog.text, form
    finally:
        await _stop(hass, sim)


@pytest.mark.parametrize(
    "text",
    [
        "GET ws://h/socket/?apikey=Pk%2BSecret%26Key%3D9911%20x: 404",
        "url=URL('ws://h/socket/?apikey=Pk+Secret%26Key%3D9911+x')",
        "key Pk+Secret&Key=9911 x in text",
    ],
)
def test_every_form_of_the_key_is_redacted(text: str) -> None:
    assert "9911" not in _redact(text, "Pk+Secret&Key=9911 x")


async def test_every_printer_of_a_big_server_is_seen_while_pushing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    printers = [(f"p{i:03d}", f"P {i}") for i in range(100)] + [(SLUG, "Prusa i3")]
    sim = RepetierSimulator(api_key="k", printers=printers)
    await sim.start("127.0.0.1", 0)
    try:
        entry = await _watch(hass, sim)
        assert state(hass, STATE) == "idle"
        await until(hass, freezer, lambda: backend(entry).pushing)
        sim.start_job(SLUG, duration=3600)
        await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    finally:
        await _stop(hass, sim)
