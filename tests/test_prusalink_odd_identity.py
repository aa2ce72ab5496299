"""A PrusaLink printer whose name or serial holds a lone surrogate or control codes
gets an entry that can be stored, and no HTTP 500."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.helpers.json import json_bytes
from homeassistant.setup import async_setup_component
import pytest

from custom_components.print_sentinel.const import DOMAIN
from simulators.prusalink import PrusaLinkSimulator


@pytest.mark.parametrize(
    "kw",
    [{"name": "MK4\ud800S"}, {"serial": "SN\udfff1"}, {"name": "\x1b[2J\x00MK4"}],
    ids=["surrogate_name", "surrogate_serial", "control_codes_name"],
)
async def test_printer_texts_can_be_stored(hass, socket_enabled, kw):
    sim = PrusaLinkSimulator("pw", **kw)
    await sim.start(host="127.0.0.1", port=0)
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "prusalink"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": sim.url, "username": "maker", "password": "pw"}
        )
        entry = result["result"]
        json_bytes(entry.as_storage_fragment)  # what the config entry store writes
        assert entry.title.isprintable(), repr(entry.title)
    finally:
        await sim.stop()


async def test_surrogate_name_is_no_http_500(hass, hass_client, socket_enabled):
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    sim = PrusaLinkSimulator("pw", name="MK4\ud800S")
    await sim.start(host="127.0.0.1", port=0)
    try:
        resp = await client.post(
            "/api/config/config_entries/flow", json={"handler": DOMAIN}
        )
        flow = (await resp.json())["flow_id"]
        await client.post(
            f"/api/config/config_entries/flow/{flow}",
            json={"next_step_id": "prusalink"},
        )
        resp = await client.post(
            f"/api/config/config_entries/flow/{flow}",
            json={"host": sim.url, "username": "maker", "password": "pw"},
        )
        text = await resp.text()
        assert resp.status < 500, text[:300]
    finally:
        await sim.stop()
