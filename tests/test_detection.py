"""Failure detection in Home Assistant: printing -> frames -> detector -> policy -> action."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_RESUME_GRACE,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
    EVENT_DETECTION,
)
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from .common import advance
from .conftest import PRINTER_SERIAL, VISION_API_KEY as API_KEY

FAILURE = "binary_sensor.prusa_mk4s_failure_detected"
SCORE = "sensor.prusa_mk4s_failure_score"
SWITCH = "switch.prusa_mk4s_failure_detection"
DETECTION_EVENT = "event.prusa_mk4s_failure_detection"
FLAGGED = "image.prusa_mk4s_flagged_frame"
LAST_FRAME = "image.prusa_mk4s_last_analysed_frame"
USAGE = "sensor.prusa_mk4s_ai_usage_today"
STATE = "sensor.prusa_mk4s_printer_state"


@pytest.fixture
def detection_options(
    printer: PrusaLinkSimulator, vision: OpenAISimulator
) -> dict[str, Any]:
    """Options: OpenAI-compatible detector, the printer's own camera, pause on failure."""
    return {
        CONF_SNAPSHOT_URL: printer.snapshot_url,
        CONF_DETECTOR: "openai",
        CONF_OPENAI_API_KEY: API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
        CONF_CHECK_INTERVAL: 20,
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
        CONF_RESUME_GRACE: 300,
    }


@pytest.fixture
async def watched(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    detection_options: dict[str, Any],
) -> MockConfigEntry:
    """The printer set up with failure detection on."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options=detection_options)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


async def _print_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    seconds: int,
    step: int = 5,
) -> None:
    for _ in range(seconds // step):
        printer.advance(step)
        await advance(hass, freezer, step)


def _pauses(printer: PrusaLinkSimulator) -> int:
    return sum(
        1
        for r in printer.requests
        if r.method == "PUT" and r.path.endswith("/pause") and r.status == 204
    )


async def test_good_print_is_never_paused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    printer.start_job(display_name="good.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 600)
    assert len(vision.requests) >= 25  # a check every 20 s while printing
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF
    assert float(hass.states.get(SCORE).state) < 30
    assert hass.states.get(STATE).state == "printing"


async def test_failing_print_is_paused_once_with_event_and_frame(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    events: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, events.append)
    printer.start_job(display_name="bad.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 300)
    printer.set_scene(Scene(92, "spaghetti"))
    await _print_for(hass, freezer, printer, 120)

    assert hass.states.get(STATE).state == "paused"
    assert _pauses(printer) == 1
    assert hass.states.get(FAILURE).state == STATE_ON
    failure = [e for e in events if e.data["level"] == "failure"]
    assert len(failure) == 1
    assert failure[0].data["action"] == "paused"
    assert failure[0].data["verdict"]["kind"] == "spaghetti"
    assert failure[0].data["image_entity_id"] == FLAGGED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), watched.entry_id
    )
    assert failure[0].data["device_id"] == device.id
    event_state = hass.states.get(DETECTION_EVENT)
    assert event_state.attributes["event_type"] == "failure"
    assert event_state.attributes["action"] == "paused"
    assert hass.states.get(FLAGGED).state not in ("unknown", "unavailable")

    # paused: no more checks, and never a second pause command
    checks = len(vision.requests)
    await _print_for(hass, freezer, printer, 120)
    assert len(vision.requests) == checks
    assert _pauses(printer) == 1


async def test_detector_errors_and_nonsense_never_pause(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(95, "spaghetti"))
    for mode in ("server_error", "off_schema", "malformed", "rate_limit", "refusal"):
        vision.set_mode(mode)
        await _print_for(hass, freezer, printer, 120)
        assert _pauses(printer) == 0, mode
        assert hass.states.get(FAILURE).state == STATE_OFF, mode
        # the score's card says why no new score comes
        assert hass.states.get(SCORE).attributes["last_error"], mode
    assert API_KEY not in str(hass.states.get(SCORE).attributes)
    vision.set_mode("normal")
    await _print_for(hass, freezer, printer, 120)
    assert hass.states.get(SCORE).attributes["last_error"] is None
    warnings = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
        and r.levelname == "WARNING"
    ]
    assert len(warnings) == 1  # one outage, one line
    assert API_KEY not in caplog.text


async def test_refused_api_key_stops_detection_and_raises_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer.start_job(display_name="part.bgcode", duration=7200)
    vision.set_mode("forbidden")
    await _print_for(hass, freezer, printer, 60)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"detector_auth_{watched.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "detector_auth_failed"
    calls = len(vision.requests)
    await _print_for(hass, freezer, printer, 120)
    assert len(vision.requests) == calls  # stopped: no hammering with a bad key
    assert API_KEY not in caplog.text


@pytest.mark.parametrize("between", [None, "ATTENTION", "BUSY"])
async def test_resumed_print_gets_a_grace_period(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
    between: str | None,
) -> None:
    """`between`: a state the printer shows first (a filament prompt, homing)."""
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 240)
    printer.set_scene(Scene(90, "detachment"))
    await _print_for(hass, freezer, printer, 180)
    assert _pauses(printer) == 1
    # the user looks, decides it is fine, and resumes: the camera still looks bad
    if between is None:
        printer.resume()
    else:
        printer.set_state(between)
        await _print_for(hass, freezer, printer, 60)
        printer.set_state("PRINTING")
    await _print_for(hass, freezer, printer, 240)
    assert hass.states.get(STATE).state == "printing"
    assert _pauses(printer) == 1
    assert hass.states.get(FAILURE).state == STATE_OFF


async def test_a_good_print_that_ends_after_a_prompt_is_learnt(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    """A filament prompt (attention) mid-print is no end; the print's end is."""
    monitor = watched.runtime_data.monitor
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 300)
    printer.set_state("ATTENTION")
    await _print_for(hass, freezer, printer, 30)
    assert monitor.baselines.baseline is None
    printer.set_state("PRINTING")
    await _print_for(hass, freezer, printer, 120)
    printer.set_state("ATTENTION")
    await _print_for(hass, freezer, printer, 30)
    printer.set_state("FINISHED")
    await _print_for(hass, freezer, printer, 30)

    baseline = monitor.baselines.baseline
    assert baseline is not None
    assert baseline.prints == 1


async def test_switch_turns_detection_off_for_this_print_only(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    printer.start_job(display_name="first.bgcode", duration=600)
    await _print_for(hass, freezer, printer, 30)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == STATE_OFF
    printer.set_scene(Scene(95, "spaghetti"))
    calls = len(vision.requests)
    await _print_for(hass, freezer, printer, 120)
    assert len(vision.requests) == calls
    assert _pauses(printer) == 0

    printer.cancel()
    await _print_for(hass, freezer, printer, 40)
    printer.set_scene(Scene(0))
    printer.start_job(display_name="second.bgcode", duration=600)
    await _print_for(hass, freezer, printer, 60)
    assert hass.states.get(SWITCH).state == STATE_ON
    assert len(vision.requests) > calls


async def test_detection_switched_off_stays_off_for_that_print_after_a_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    """The user knows this print looks odd, switches detection off, saves options."""
    printer.start_job(display_name="odd.bgcode", duration=3600)
    printer.set_scene(Scene(95, "spaghetti"))
    await _print_for(hass, freezer, printer, 30)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    assert await hass.config_entries.async_reload(watched.entry_id)
    await hass.async_block_till_done()
    calls = len(vision.requests)
    await _print_for(hass, freezer, printer, 600)
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert len(vision.requests) == calls
    assert _pauses(printer) == 0

    # the next print is watched again
    printer.cancel()
    await _print_for(hass, freezer, printer, 40)
    printer.start_job(display_name="next.bgcode", duration=600)
    await _print_for(hass, freezer, printer, 60)
    assert hass.states.get(SWITCH).state == STATE_ON
    assert len(vision.requests) > calls


async def test_vision_check_service_returns_the_verdict(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), watched.entry_id
    )
    printer.set_scene(Scene(88, "spaghetti"))
    assert hass.states.get(LAST_FRAME).state == STATE_UNKNOWN
    response = await hass.services.async_call(
        DOMAIN,
        "vision_check",
        {"device_id": device.id},
        blocking=True,
        return_response=True,
    )
    assert hass.states.get(LAST_FRAME).state != STATE_UNKNOWN  # shows what it saw
    assert response["frames"] == 1
    assert response["kind"] == "spaghetti"
    assert response["failure_score"] > 60
    assert response["detector"] == "openai"
    assert response["usage"]["calls"] == 1
    assert _pauses(printer) == 0  # a check on demand never acts
    assert int(hass.states.get(USAGE).state) == 1

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "vision_check",
            {"device_id": "nope"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "device_not_found"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "vision_check",
            {"device_id": device.id, "detector": "gadget"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "detector_not_configured"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "vision_check",
            {"device_id": device.id, "camera_entity_id": "camera.missing"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "camera_not_found"
    vision.set_mode("server_error")
    response = await hass.services.async_call(
        DOMAIN,
        "vision_check",
        {"device_id": device.id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["error"] == "detector_failed"
    assert response["pause"] is False


async def test_reset_detection_clears_a_failure(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 240)
    printer.set_scene(Scene(93, "blob"))
    await _print_for(hass, freezer, printer, 180)
    assert hass.states.get(FAILURE).state == STATE_ON
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), watched.entry_id
    )
    await hass.services.async_call(
        DOMAIN, "reset_detection", {"device_id": device.id}, blocking=True
    )
    assert hass.states.get(FAILURE).state == STATE_OFF


async def test_services_explain_when_detection_is_off(
    hass: HomeAssistant, printer: PrusaLinkSimulator, init_integration: MockConfigEntry
) -> None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), init_integration.entry_id
    )
    assert hass.states.get(FAILURE) is None  # no detection entities without a detector
    for service in ("vision_check", "reset_detection", "false_alarm"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                service,
                {"device_id": device.id},
                blocking=True,
                return_response=service == "vision_check",
            )
        assert err.value.translation_key == "detection_off"


async def test_no_secret_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    watched: MockConfigEntry,
) -> None:
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 60)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, watched)
    text = str(diagnostics)
    assert "detection" in diagnostics
    for secret in (API_KEY, "sim-Secret-pw-4711", PRINTER_SERIAL):
        assert secret not in text
