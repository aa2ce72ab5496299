"""Choosing and checking a failure detector in the options."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_AI_TASK_ENTITY,
    CONF_DETECTOR,
    CONF_GADGET_API_KEY,
    CONF_GADGET_URL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_MODEL,
    CONF_PRINTWATCH_API_KEY,
)
from simulators.gadget import GadgetSimulator
from simulators.openai_compat import OpenAISimulator

KEY = "sk-options-Key-123"
DETECTION = {
    "detector": "openai",
    "check_interval": 30,
    "frame_count": 3,
    "sensitivity": "medium",
    "policy": "sentinel",
    "failure_action": "pause",
    "warning_action": "notify",
    "resume_grace": 300,
}


@pytest.fixture
async def vision(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    sim = OpenAISimulator(KEY)
    await sim.start()
    yield sim
    await sim.stop()


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
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"detector_{detector}"
    return result["flow_id"]


async def test_openai_detector_is_checked_before_saving(
    hass: HomeAssistant, vision: OpenAISimulator, init_integration: MockConfigEntry
) -> None:
    flow_id = await _detector_form(hass, init_integration, "openai")
    form = {
        CONF_OPENAI_API_KEY: "sk-wrong",
        CONF_OPENAI_BASE_URL: vision.url,
        CONF_OPENAI_MODEL: "gpt-4.1-nano",
        "openai_image_detail": "low",
    }
    result = await hass.config_entries.options.async_configure(flow_id, form)
    assert result["errors"] == {"base": "invalid_api_key"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**form, CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_MODEL: "no-such-model"}
    )
    assert result["errors"] == {"base": "bad_response"}
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {
            **form,
            CONF_OPENAI_API_KEY: KEY,
            CONF_OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**form, CONF_OPENAI_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options[CONF_DETECTOR] == "openai"
    assert init_integration.options[CONF_OPENAI_API_KEY] == KEY
    # the entry reloaded with detection: its entities exist now
    assert hass.states.get("switch.prusa_mk4s_failure_detection") is not None


async def test_gadget_detector_key_is_checked(
    hass: HomeAssistant, socket_enabled: None, init_integration: MockConfigEntry
) -> None:
    gadget = GadgetSimulator(api_key="oe-key")
    await gadget.start()
    try:
        hass.config_entries.async_update_entry(
            init_integration, options={CONF_GADGET_URL: gadget.url}
        )
        await hass.async_block_till_done()
        flow_id = await _detector_form(hass, init_integration, "gadget")
        form = {"gadget_warning_level": 3, "gadget_pause_level": 2}
        result = await hass.config_entries.options.async_configure(
            flow_id, {**form, CONF_GADGET_API_KEY: "bad"}
        )
        assert result["errors"] == {"base": "invalid_api_key"}
        result = await hass.config_entries.options.async_configure(
            flow_id, {**form, CONF_GADGET_API_KEY: "oe-key"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert init_integration.options["gadget_pause_level"] == 2
    finally:
        await gadget.stop()


async def test_ai_task_entity_must_exist(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    flow_id = await _detector_form(hass, init_integration, "ai_task")
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_AI_TASK_ENTITY: "ai_task.missing"}
    )
    assert result["errors"] == {"base": "entity_not_found"}
    hass.states.async_set("ai_task.assistant", "unknown")
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_AI_TASK_ENTITY: "ai_task.assistant"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_printwatch_key_is_saved(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    flow_id = await _detector_form(hass, init_integration, "printwatch")
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_PRINTWATCH_API_KEY: "pw-key"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options[CONF_PRINTWATCH_API_KEY] == "pw-key"
    assert hass.states.get("binary_sensor.prusa_mk4s_failure_detected") is not None


OPENAI_FORM = {
    CONF_OPENAI_MODEL: "gpt-4.1-nano",
    "openai_image_detail": "low",
}


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        (
            {CONF_OPENAI_API_KEY: KEY + "\n"},
            {CONF_OPENAI_API_KEY: "invalid_key_format"},
        ),
        (
            {CONF_OPENAI_API_KEY: "sk-two words"},
            {CONF_OPENAI_API_KEY: "invalid_key_format"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_BASE_URL: "http://[::1"},
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_BASE_URL: "ftp://example.com/v1"},
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (  # the SDK's own URL parser refused these with an HTTP 500
            {
                CONF_OPENAI_API_KEY: KEY,
                CONF_OPENAI_BASE_URL: "http://\U0001f4a5.local/v1",
            },
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_BASE_URL: "http://ollama\x00/v1"},
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_BASE_URL: "http://ollama/v1\x7f"},
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_BASE_URL: "http://oll ama:11434/v1"},
            {CONF_OPENAI_BASE_URL: "invalid_base_url"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_MODEL: "gpt 4.1 nano"},
            {CONF_OPENAI_MODEL: "invalid_model"},
        ),
        (
            {CONF_OPENAI_API_KEY: KEY, CONF_OPENAI_MODEL: "llava\x1b:13b"},
            {CONF_OPENAI_MODEL: "invalid_model"},
        ),
    ],
    ids=[
        "newline_key",
        "key_with_space",
        "broken_url",
        "not_http",
        "not_idna",
        "nul",
        "del",
        "space",
        "model_with_spaces",
        "model_with_escape",
    ],
)
async def test_what_the_user_typed_is_checked_field_by_field(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    init_integration: MockConfigEntry,
    typed: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Each gets a form error on its field, not "cannot connect" or an HTTP 500."""
    flow_id = await _detector_form(hass, init_integration, "openai")

    result = await hass.config_entries.options.async_configure(
        flow_id, {**OPENAI_FORM, CONF_OPENAI_BASE_URL: vision.url, **typed}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert vision.requests == []  # nothing was sent
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {**OPENAI_FORM, CONF_OPENAI_BASE_URL: vision.url, CONF_OPENAI_API_KEY: KEY},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "body",
    [
        '{"printers": []}',
        '[{"id": "gpt-4.1-nano"}]',
        "<!DOCTYPE html><html><body>Welcome to your router</body></html>",
        "[" * 200_000,
    ],
    ids=["other_api", "list", "html", "deep"],
)
async def test_a_base_url_that_is_not_a_vision_api_is_a_bad_response(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    init_integration: MockConfigEntry,
    body: str,
) -> None:
    vision.models_body = body
    flow_id = await _detector_form(hass, init_integration, "openai")

    result = await hass.config_entries.options.async_configure(
        flow_id,
        {**OPENAI_FORM, CONF_OPENAI_BASE_URL: vision.url, CONF_OPENAI_API_KEY: KEY},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "bad_response"}


@pytest.mark.parametrize(
    ("detector", "form", "field"),
    [
        (
            "gadget",
            {
                CONF_GADGET_API_KEY: "oe key\r\n",
                "gadget_warning_level": 3,
                "gadget_pause_level": 3,
            },
            CONF_GADGET_API_KEY,
        ),
        ("printwatch", {CONF_PRINTWATCH_API_KEY: "pw\tkey"}, CONF_PRINTWATCH_API_KEY),
    ],
)
async def test_remote_detector_keys_are_checked_too(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    detector: str,
    form: dict[str, object],
    field: str,
) -> None:
    flow_id = await _detector_form(hass, init_integration, detector)

    result = await hass.config_entries.options.async_configure(flow_id, form)

    assert result["errors"] == {field: "invalid_key_format"}


def _suggested(result: Any) -> dict[str, Any]:
    """The values a form sends the browser to fill its fields with."""
    return {
        str(field): field.description["suggested_value"]
        for field in result["data_schema"].schema
        if field.description and "suggested_value" in field.description
    }


async def _open_detector_step(
    hass: HomeAssistant, entry: MockConfigEntry, detector: str
) -> tuple[str, dict[str, Any]]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "detection"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DETECTION, CONF_DETECTOR: detector}
    )
    return result["flow_id"], _suggested(result)


async def test_the_saved_key_never_reaches_the_browser_and_an_empty_field_keeps_it(
    hass: HomeAssistant, vision: OpenAISimulator, init_integration: MockConfigEntry
) -> None:
    form = {CONF_OPENAI_BASE_URL: vision.url, CONF_OPENAI_MODEL: "gpt-4.1-nano"}
    flow_id, _ = await _open_detector_step(hass, init_integration, "openai")
    result = await hass.config_entries.options.async_configure(
        flow_id, {**form, CONF_OPENAI_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    # the user comes back to change the model
    flow_id, suggested = await _open_detector_step(hass, init_integration, "openai")
    assert suggested[CONF_OPENAI_BASE_URL] == vision.url
    assert CONF_OPENAI_API_KEY not in suggested
    assert KEY not in str(suggested)
    result = await hass.config_entries.options.async_configure(
        flow_id, {**form, CONF_OPENAI_MODEL: "gpt-4o-mini"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options[CONF_OPENAI_API_KEY] == KEY
    assert init_integration.options[CONF_OPENAI_MODEL] == "gpt-4o-mini"


async def test_the_saved_key_is_not_sent_to_a_new_base_url(
    hass: HomeAssistant, vision: OpenAISimulator, init_integration: MockConfigEntry
) -> None:
    """A server that would accept the old key: it must not get it unasked."""
    other = OpenAISimulator(KEY)
    await other.start()
    try:
        flow_id, _ = await _open_detector_step(hass, init_integration, "openai")
        await hass.config_entries.options.async_configure(
            flow_id, {CONF_OPENAI_BASE_URL: vision.url, CONF_OPENAI_API_KEY: KEY}
        )
        await hass.async_block_till_done()

        flow_id, _ = await _open_detector_step(hass, init_integration, "openai")
        result = await hass.config_entries.options.async_configure(
            flow_id, {CONF_OPENAI_BASE_URL: other.url}
        )
        assert result["errors"] == {"base": "invalid_api_key"}
        assert all(r.status == 401 for r in other.requests)
        # typed again for the new server, it is saved
        result = await hass.config_entries.options.async_configure(
            flow_id, {CONF_OPENAI_BASE_URL: other.url, CONF_OPENAI_API_KEY: KEY}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert init_integration.options[CONF_OPENAI_BASE_URL] == other.url
    finally:
        await other.stop()


async def test_a_saved_key_of_a_fixed_service_is_kept_and_not_shown(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    flow_id, _ = await _open_detector_step(hass, init_integration, "printwatch")
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_PRINTWATCH_API_KEY: "pw-Secret-key-1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    flow_id, suggested = await _open_detector_step(hass, init_integration, "printwatch")
    assert "pw-Secret-key-1" not in str(suggested)
    result = await hass.config_entries.options.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.options[CONF_PRINTWATCH_API_KEY] == "pw-Secret-key-1"


async def test_a_pasted_model_name_with_spaces_around_it_is_used_as_the_name(
    hass: HomeAssistant, vision: OpenAISimulator, init_integration: MockConfigEntry
) -> None:
    """Not "bad response" for " gpt-4.1-nano ": the service is asked for gpt-4.1-nano."""
    flow_id = await _detector_form(hass, init_integration, "openai")
    result = await hass.config_entries.options.async_configure(
        flow_id,
        {
            **OPENAI_FORM,
            CONF_OPENAI_MODEL: " gpt-4.1-nano\t",
            CONF_OPENAI_BASE_URL: vision.url,
            CONF_OPENAI_API_KEY: KEY,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vision.requests  # the key and the model were checked with the service


async def test_an_unexpected_failure_of_the_check_is_a_form_error_not_a_500(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A library raising what nobody expected: "unknown", one line, no traceback."""
    flow_id = await _detector_form(hass, init_integration, "gadget")
    form = {"gadget_warning_level": 3, "gadget_pause_level": 2}
    with patch(
        "custom_components.print_sentinel.detection.detectors.gadget."
        "GadgetDetector.async_validate",
        side_effect=RuntimeError("resolver broke at https://x/?key=oe-Secret-key"),
    ):
        result = await hass.config_entries.options.async_configure(
            flow_id, {**form, CONF_GADGET_API_KEY: "oe-Secret-key"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is None
    assert "RuntimeError" in errors[0].getMessage()
    assert "oe-Secret-key" not in caplog.text
