"""Building the configured detector from the options, and checking it in the flow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_DETECTOR,
    CONF_GADGET_API_KEY,
    CONF_GADGET_URL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_DETAIL,
    CONF_OPENAI_MODEL,
    CONF_PRINTWATCH_API_KEY,
    CONF_SNAPSHOT_URL,
    DOMAIN,
)
from simulators.gadget import GadgetSimulator
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_SERIAL

SWITCH = "switch.prusa_mk4s_failure_detection"
STATE = "sensor.prusa_mk4s_printer_state"
KEY = "sk-setup-Key-31337"
GADGET_KEY = "prod_setup_gadget_key_77"
DETECTION = {
    "detector": "gadget",
    "check_interval": 30,
    "frame_count": 1,
    "sensitivity": "medium",
    "policy": "sentinel",
    "failure_action": "pause",
    "warning_action": "notify",
    "resume_grace": 300,
}


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


# --- options that do not make a detector -------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {CONF_DETECTOR: "printwatch"},
        {CONF_DETECTOR: "gadget", CONF_GADGET_URL: "http://127.0.0.1:9"},
        {CONF_DETECTOR: "ai_task"},
        # written by another version of Print Sentinel
        {CONF_DETECTOR: "obico"},
        # a base URL or key no version accepts now (stored before the checks)
        {CONF_DETECTOR: "openai", CONF_OPENAI_BASE_URL: "http://[::1"},
        {CONF_DETECTOR: "openai", CONF_OPENAI_API_KEY: "sk-line\nbreak"},
        {CONF_DETECTOR: "gadget", CONF_GADGET_API_KEY: "oe key"},
    ],
    ids=[
        "printwatch_without_key",
        "gadget_without_key",
        "ai_task_without_entity",
        "unknown",
        "openai_broken_url",
        "openai_key_with_newline",
        "gadget_key_with_space",
    ],
)
async def test_incomplete_detector_options_leave_detection_off(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    options: dict[str, Any],
) -> None:
    await _setup(hass, mock_config_entry, **options)

    assert hass.states.get(STATE).state == "idle"  # the printer works
    assert hass.states.get(SWITCH) is None  # detection does not
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
        and r.levelno == logging.WARNING
    ]
    assert warnings == [
        "Failure detection for Prusa MK4S is not fully configured; open the options"
    ]


# --- the configured model and detail are what is sent ------------------------------------------


async def test_openai_model_and_detail_from_the_options_are_sent(
    hass: HomeAssistant,
    socket_enabled: None,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    async with OpenAISimulator(KEY) as vision:
        await _setup(
            hass,
            mock_config_entry,
            **{
                CONF_SNAPSHOT_URL: printer.snapshot_url,
                CONF_DETECTOR: "openai",
                CONF_OPENAI_API_KEY: KEY,
                CONF_OPENAI_BASE_URL: vision.url,
                CONF_OPENAI_MODEL: "gpt-4o",
                CONF_OPENAI_DETAIL: "high",
            },
        )
        device = dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, PRINTER_SERIAL), mock_config_entry.entry_id
        )
        assert device is not None
        await hass.services.async_call(
            DOMAIN,
            "vision_check",
            {"device_id": device.id},
            blocking=True,
            return_response=True,
        )

    (request,) = vision.requests
    assert request.model == "gpt-4o"
    assert request.details == ["high"]


# --- checking the detector in the options flow ------------------------------------------------


async def _detector_form(
    hass: HomeAssistant, entry: MockConfigEntry, detector: str
) -> str:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "detection"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DETECTION, CONF_DETECTOR: detector}
    )
    assert result["step_id"] == f"detector_{detector}"
    return result["flow_id"]


async def test_an_empty_printwatch_key_is_not_saved(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    flow_id = await _detector_form(hass, init_integration, "printwatch")

    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_PRINTWATCH_API_KEY: ""}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PRINTWATCH_API_KEY: "key_required"}
    assert CONF_DETECTOR not in init_integration.options


@pytest.fixture
async def gadget(socket_enabled: None) -> AsyncGenerator[GadgetSimulator]:
    sim = GadgetSimulator(api_key=GADGET_KEY)
    await sim.start()
    yield sim
    await sim.stop()


async def test_a_throttled_service_during_the_key_check_asks_to_try_again(
    hass: HomeAssistant,
    gadget: GadgetSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_GADGET_URL: gadget.url}
    )
    await hass.async_block_till_done()
    flow_id = await _detector_form(hass, init_integration, "gadget")
    gadget.fail_next("OE_BACKEND_THROTTLED", endpoint="createcontext")
    caplog.clear()

    result = await hass.config_entries.options.async_configure(
        flow_id,
        {
            CONF_GADGET_API_KEY: GADGET_KEY,
            "gadget_warning_level": 3,
            "gadget_pause_level": 3,
        },
    )

    assert result["errors"] == {"base": "cannot_connect"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
