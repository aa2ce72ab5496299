"""PrintWatch error texts that quote the API key: no part of it is shown."""

from __future__ import annotations

import aiohttp
from aiohttp import web
import pytest

from custom_components.print_sentinel.detection.detectors.printwatch import (
    PrintWatchDetector,
)
from custom_components.print_sentinel.detection.verdict import DetectorError

from .common import answering
from .detectors_remote import FakeClock, make_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _message(key: str, detail: object) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"statusCode": 400, "detail": detail}, status=400)

    async with answering(handler) as port, aiohttp.ClientSession() as session:
        detector = PrintWatchDetector(
            session,
            key,
            f"http://127.0.0.1:{port}",
            printer_id="p",
            clock=FakeClock(),
            timeout=5,
        )
        with pytest.raises(DetectorError) as err:
            await detector.async_analyze([make_frame()])
    return str(err.value)


async def test_a_long_key_quoted_leaves_no_prefix() -> None:
    """The text is cut after the key is replaced: no prefix of it is left."""
    key = "sub_" + "A1b2C3d4" * 30  # 244 printable ASCII chars
    message = await _message(key, f"Invalid api_key {key}")
    assert key[:150] not in message, message


async def test_a_key_across_the_cut_leaves_no_prefix() -> None:
    key = "sub_live_0123456789abcdef"
    message = await _message(key, "x" * 185 + " key " + key + " is invalid")
    assert key[:8] not in message, message


async def test_a_key_in_a_structured_detail_is_redacted() -> None:
    """FastAPI/pydantic 422: detail is a list with the input echoed; repr escapes."""
    key = "sub_ab\\cd'ef\"gh"
    message = await _message(key, [{"loc": ["body", "api_key"], "input": key}])
    assert "sub_ab" not in message, message


# --- end to end in Home Assistant: log, sensor attribute, diagnostics ---------

import json as _json  # noqa: E402
import logging  # noqa: E402

from freezegun.api import FrozenDateTimeFactory  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402
from pytest_homeassistant_custom_component.common import MockConfigEntry  # noqa: E402
from pytest_homeassistant_custom_component.components.diagnostics import (  # noqa: E402
    get_diagnostics_for_config_entry,
)

from custom_components.print_sentinel.const import (  # noqa: E402
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_PRINTWATCH_API_KEY,
    CONF_PRINTWATCH_URL,
    CONF_SNAPSHOT_URL,
)
from simulators.printwatch import PrintWatchSimulator  # noqa: E402
from simulators.scene import Scene  # noqa: E402

from .test_detection import _print_for  # noqa: E402

LONG_KEY = "pw_" + "Zq9Xw8Vu" * 30


async def test_no_part_of_a_quoted_key_in_log_attributes_or_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer,
    mock_config_entry: MockConfigEntry,
    hass_client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = PrintWatchSimulator(api_key=LONG_KEY, noise=0)
    await sim.start()
    try:
        sim.malformed = _json.dumps(
            {"statusCode": 400, "detail": f"Bad request for api_key {LONG_KEY}"}
        )
        mock_config_entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            mock_config_entry,
            options={
                CONF_SNAPSHOT_URL: printer.snapshot_url,
                CONF_DETECTOR: "printwatch",
                CONF_PRINTWATCH_API_KEY: LONG_KEY,
                CONF_PRINTWATCH_URL: sim.url,
                CONF_CHECK_INTERVAL: 20,
            },
        )
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        printer.start_job(display_name="benchy.bgcode", duration=3600)
        printer.set_scene(Scene(0))
        await _print_for(hass, freezer, printer, 120)
        diag = await get_diagnostics_for_config_entry(
            hass, hass_client, mock_config_entry
        )
    finally:
        await sim.stop()
    prefix = LONG_KEY[:100]
    where = []
    if any(prefix in r.getMessage() for r in caplog.records):
        where.append("log")
    where.extend(
        f"state:{state.entity_id}"
        for state in hass.states.async_all()
        if prefix in str(state.attributes) or prefix in str(state.state)
    )
    if prefix in _json.dumps(diag):
        where.append("diagnostics")
    assert not where, where
