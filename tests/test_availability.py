"""Entities turn unavailable when what they show cannot be known.

- failure detection: what describes the current print (failure score, print quality,
  failure detected) is unavailable while the printer is; what Home Assistant holds
  itself (the switch, the last check, AI usage, the frames) stays;
- the snapshot camera: unavailable after failed pictures in a row, for a while, and
  available again as soon as a picture works;
- the Prusa Connect upload sensor: unavailable once Connect refused the token
  (covered in `tests/connect/test_last_upload_sensor.py`).
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.camera import (
    FAILURES_UNTIL_UNAVAILABLE,
    RETRY_UNAVAILABLE_AFTER,
)
from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_SNAPSHOT_URL,
)
from custom_components.print_sentinel.pictures import async_fresh_picture
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from .common import NEXT_POLL, advance
from .conftest import VISION_API_KEY

CAMERA = "camera.prusa_mk4s_camera"
FOLLOW_THE_PRINTER = (
    "sensor.prusa_mk4s_failure_score",
    "sensor.prusa_mk4s_print_quality",
    "binary_sensor.prusa_mk4s_failure_detected",
)
HOME_ASSISTANTS_OWN = (
    "switch.prusa_mk4s_failure_detection",
    "sensor.prusa_mk4s_last_check",
    "sensor.prusa_mk4s_ai_usage_today",
    "image.prusa_mk4s_last_analysed_frame",
    "image.prusa_mk4s_flagged_frame",
)


async def _setup(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_detection_entities_follow_the_printer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(
        hass,
        mock_config_entry,
        {
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: VISION_API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
            CONF_CHECK_INTERVAL: 20,
        },
    )
    printer.start_job(display_name="good.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    for _ in range(12):
        printer.advance(5)
        await advance(hass, freezer, 5)
    assert _state(hass, "sensor.prusa_mk4s_failure_score") != "unknown"
    for entity_id in (*FOLLOW_THE_PRINTER, *HOME_ASSISTANTS_OWN):
        assert _state(hass, entity_id) != STATE_UNAVAILABLE, entity_id

    await printer.go_offline()
    await advance(hass, freezer, NEXT_POLL)
    for entity_id in FOLLOW_THE_PRINTER:
        assert _state(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    for entity_id in HOME_ASSISTANTS_OWN:
        assert _state(hass, entity_id) != STATE_UNAVAILABLE, entity_id

    await printer.come_back()
    await advance(hass, freezer, 31)
    for entity_id in (*FOLLOW_THE_PRINTER, *HOME_ASSISTANTS_OWN):
        assert _state(hass, entity_id) != STATE_UNAVAILABLE, entity_id


async def test_snapshot_camera_turns_unavailable_after_failures_in_a_row(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(hass, mock_config_entry, {CONF_SNAPSHOT_URL: printer.snapshot_url})
    printer.faults.camera_error = True

    for _ in range(FAILURES_UNTIL_UNAVAILABLE - 1):
        with pytest.raises(HomeAssistantError):
            await async_fresh_picture(hass, CAMERA)
    assert _state(hass, CAMERA) != STATE_UNAVAILABLE  # one bad picture is no outage
    with pytest.raises(HomeAssistantError):
        await async_fresh_picture(hass, CAMERA)
    assert _state(hass, CAMERA) == STATE_UNAVAILABLE

    # after a while the frontend may try again; a failure makes it wait once more
    await advance(hass, freezer, RETRY_UNAVAILABLE_AFTER.total_seconds() + 1)
    assert _state(hass, CAMERA) != STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError):
        await async_fresh_picture(hass, CAMERA)
    assert _state(hass, CAMERA) == STATE_UNAVAILABLE

    # a picture that works (failure detection, Prusa Connect keep asking) ends it
    printer.faults.camera_error = False
    image = await async_fresh_picture(hass, CAMERA)
    assert image.startswith(b"\xff\xd8")
    assert _state(hass, CAMERA) != STATE_UNAVAILABLE


async def test_printer_camera_turns_unavailable_after_failures_in_a_row(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A URL that never answers counts like a camera error."""
    await _setup(hass, mock_config_entry, {CONF_SNAPSHOT_URL: "http://127.0.0.1:9/x"})
    for _ in range(FAILURES_UNTIL_UNAVAILABLE):
        with pytest.raises(HomeAssistantError):
            await async_fresh_picture(hass, CAMERA)
    assert _state(hass, CAMERA) == STATE_UNAVAILABLE
