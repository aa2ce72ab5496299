"""A hostile vision API seen from Home Assistant: translated errors, never a crash."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_DETECTOR,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_SNAPSHOT_URL,
    DOMAIN,
)
from simulators.openai_compat import OpenAISimulator, SimMode
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from ..conftest import PRINTER_SERIAL
from ..test_detection import FAILURE, _pauses, _print_for

API_KEY = "sk-hostile-in-ha-0123456789"


@pytest.fixture
async def vision(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """The OpenAI-compatible simulator."""
    sim = OpenAISimulator(API_KEY, seed=1, false_positive_rate=0.0)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def watched(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """The printer with failure detection on (OpenAI, the printer's camera)."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


async def _vision_check(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), entry.entry_id
    )
    assert device is not None
    response = await hass.services.async_call(
        DOMAIN,
        "vision_check",
        {"device_id": device.id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


HOSTILE = (
    SimMode.DEEP_JSON,
    SimMode.MESSAGE_NULL,
    SimMode.CHOICES_STRINGS,
    SimMode.LIST_BODY,
    SimMode.HUGE_BODY,
    SimMode.DEEP_CONTENT,
)


@pytest.mark.parametrize("mode", HOSTILE)
async def test_a_hostile_answer_to_vision_check_is_a_translated_error(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    mode: SimMode,
) -> None:
    """Once an untranslated TypeError, AttributeError or RecursionError."""
    vision.set_mode(mode, count=1)

    response = await _vision_check(hass, watched)

    assert response["error"] == "detector_failed"
    assert response["pause"] is False
    assert API_KEY not in str(response)
    # the next check works: nothing was left broken
    assert (await _vision_check(hass, watched))["kind"] == "none"


@pytest.mark.parametrize("mode", [SimMode.USAGE_NULL, SimMode.USAGE_HUGE])
async def test_unusable_usage_still_gives_a_verdict(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    mode: SimMode,
) -> None:
    vision.set_mode(mode)

    response = await _vision_check(hass, watched)

    assert response["kind"] == "none"
    assert response["usage"]["cost_usd"] < 0.01


async def test_scheduled_checks_go_on_through_hostile_answers(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each hostile answer is an outage of the detector: logged once, the next
    check still scheduled, never a pause, never a traceback."""
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(95, "spaghetti"))
    for mode in HOSTILE:
        vision.set_mode(mode)
        before = len(vision.requests)
        await _print_for(hass, freezer, printer, 120)
        assert len(vision.requests) > before, mode  # checks were rescheduled
        assert _pauses(printer) == 0, mode
        assert hass.states.get(FAILURE).state == STATE_OFF, mode
    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
    ]
    assert [r.levelname for r in ours if r.levelno >= logging.WARNING] == ["WARNING"]
    tracebacks = [
        r.getMessage()
        for r in caplog.records
        if r.exc_info and r.name.startswith(("custom_components", "homeassistant"))
    ]
    assert tracebacks == []
    assert "Task exception was never retrieved" not in caplog.text
    assert API_KEY not in caplog.text
