"""Detection left on overnight: the user's false alarm, our own pause resumed, the
printer's baseline across prints and restarts, the frame size, and bugs seen in a
real browser (the warning's text, a warning outliving its print, a broken picture)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
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
    CONF_FRAME_LONG_SIDE,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
)
from custom_components.print_sentinel.detection.actions import (
    MAX_NAME,
    MAX_REASON,
    escape_markdown,
    notification_message,
)
from custom_components.print_sentinel.detection.baseline import DATA_STORES, storage_key
from custom_components.print_sentinel.detection.detectors.bounded import NotJSON, loads
from custom_components.print_sentinel.detection.on_demand import frame_long_side
from custom_components.print_sentinel.detection.timeline import (
    MAX_AROUND,
    MAX_ENTRIES,
    Timeline,
)
from custom_components.print_sentinel.detection.verdict import FailureKind, Verdict
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from .common import advance
from .conftest import PRINTER_SERIAL, VISION_API_KEY as API_KEY

FAILURE = "binary_sensor.prusa_mk4s_failure_detected"
SCORE = "sensor.prusa_mk4s_failure_score"
FALSE_ALARM = "button.prusa_mk4s_false_alarm"
FLAGGED = "image.prusa_mk4s_flagged_frame"
LAST_FRAME = "image.prusa_mk4s_last_analysed_frame"
STATE = "sensor.prusa_mk4s_printer_state"

WARNING_ANSWER = {
    "failure_score": 52,
    "print_quality": 5,
    "kind": "stringing",
    "reason": "Thin strings between the towers.",
}
FAILING_ANSWER = {
    "failure_score": 96,
    "print_quality": 1,
    "kind": "spaghetti",
    "reason": "Tangled filament everywhere.",
}


@pytest.fixture
def options(printer: PrusaLinkSimulator, vision: OpenAISimulator) -> dict[str, Any]:
    """OpenAI detector, the printer's camera, a check every 20 s, pause on failure."""
    return {
        CONF_SNAPSHOT_URL: printer.snapshot_url,
        CONF_DETECTOR: "openai",
        CONF_OPENAI_API_KEY: API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
        CONF_CHECK_INTERVAL: 20,
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
    }


async def _watch(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _print_for(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    seconds: int,
) -> None:
    for _ in range(seconds // 5):
        printer.advance(5)
        await advance(hass, freezer, 5)


def _notification(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any] | None:
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    found = notifications.get(f"{DOMAIN}_{entry.entry_id}_detection")
    return dict(found) if found else None


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), entry.entry_id
    )
    assert device is not None
    return device.id


def _pauses(printer: PrusaLinkSimulator) -> int:
    return sum(
        1
        for r in printer.requests
        if r.method == "PUT" and r.path.endswith("/pause") and r.status == 204
    )


async def _fail_and_pause(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    duration: int = 7200,
) -> None:
    printer.start_job(display_name="part.bgcode", duration=duration)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 240)
    printer.set_scene(Scene(93, "spaghetti"))
    await _print_for(hass, freezer, printer, 180)
    assert _pauses(printer) == 1
    assert hass.states.get(FAILURE).state == STATE_ON


# --- bugs seen in a real browser ------------------------------------------------


async def test_a_warning_notification_says_check_the_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    vision.script([WARNING_ANSWER] * 40)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 360)

    found = _notification(hass, mock_config_entry)
    assert found is not None
    assert "possible print warning" in found["title"]
    assert found["message"].endswith("Check the print.")
    assert "could not act" not in found["message"]


async def test_a_warning_ends_with_its_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    vision.script([WARNING_ANSWER] * 60)
    printer.start_job(display_name="part.bgcode", duration=400)
    await _print_for(hass, freezer, printer, 300)
    assert hass.states.get(SCORE).attributes["decision"] == "warning"

    await _print_for(hass, freezer, printer, 200)
    assert hass.states.get(STATE).state == "finished"
    assert hass.states.get(SCORE).attributes["decision"] == "ok"
    response = await hass.services.async_call(
        DOMAIN,
        "vision_check",
        {"device_id": _device_id(hass, mock_config_entry)},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["decision"] == "ok"


async def test_the_flagged_frame_has_no_picture_until_something_is_flagged(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    client = await hass_client()

    async def pictures_load() -> list[str]:
        shown = []
        for entity_id in (FLAGGED, LAST_FRAME):
            picture = hass.states.get(entity_id).attributes.get("entity_picture")
            if picture:
                response = await client.get(picture)
                assert response.status == HTTPStatus.OK, entity_id
                shown.append(entity_id)
        return shown

    assert await pictures_load() == []
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 60)
    assert await pictures_load() == [LAST_FRAME]  # checked, nothing flagged yet

    printer.set_scene(Scene(93, "spaghetti"))
    await _print_for(hass, freezer, printer, 180)
    assert await pictures_load() == [FLAGGED, LAST_FRAME]


# --- Markdown from outside is escaped ---------------------------------------------


async def test_the_reason_and_the_name_cannot_inject_markdown(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    hostile = "[open](javascript:alert(1)) <img src=x onerror=alert(1)>"
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, title="Prusa MK4S " + "x" * 500, options=options
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    vision.script([{**WARNING_ANSWER, "reason": hostile + " " + "y" * 400}] * 40)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 360)

    found = _notification(hass, mock_config_entry)
    assert found is not None
    message = found["message"]
    assert "](" not in message.replace("\\](", "")
    assert "<img" not in message
    assert "\\[open\\]\\(javascript:alert\\(1\\)\\)" in message
    assert len(message) < MAX_REASON * 2 + 100
    assert len(found["title"]) <= MAX_NAME + len(": possible print warning")


def test_escape_markdown_keeps_plain_text_readable() -> None:
    assert escape_markdown("Strings on the left tower") == "Strings on the left tower"
    assert escape_markdown("**bold** & `code`") == "\\*\\*bold\\*\\* &amp; \\`code\\`"
    assert escape_markdown("# heading") == "\\# heading"


# --- the user's false alarm -------------------------------------------------------


async def test_false_alarm_button_clears_the_failure_and_keeps_the_verdicts(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    assert hass.states.get(FALSE_ALARM).state == STATE_UNAVAILABLE  # nothing yet
    await _fail_and_pause(hass, freezer, printer)
    assert hass.states.get(FALSE_ALARM).state != STATE_UNAVAILABLE
    assert _notification(hass, mock_config_entry) is not None

    await hass.services.async_call(
        "button", "press", {"entity_id": FALSE_ALARM}, blocking=True
    )
    assert hass.states.get(FAILURE).state == STATE_OFF
    assert _notification(hass, mock_config_entry) is None
    assert hass.states.get(FALSE_ALARM).state == STATE_UNAVAILABLE  # marked once

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )
    timeline = diagnostics["detection_timeline"]
    marks = [e for e in timeline if e["false_alarm"]]
    assert len(marks) == 1
    assert marks[0]["decision"] == "failure"
    assert any(e["action"] == "paused" for e in timeline)
    assert {"at", "score", "kind", "reason", "error", "decision", "action"} <= set(
        timeline[0]
    )
    baseline = diagnostics["detection_baseline"]
    assert baseline["false_alarms_this_print"] == 1
    recorded = baseline["false_alarms"]
    assert len(recorded) == 1
    assert recorded[0]["level"] == "failure"
    assert recorded[0]["action"] == "paused"
    kinds = [v["kind"] for v in recorded[0]["verdicts"]]
    assert "spaghetti" in kinds  # the verdicts that led to the decision

    # the user resumes the pause we made: our own pause, resumed
    printer.resume()
    await _print_for(hass, freezer, printer, 20)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )
    assert diagnostics["detection_baseline"]["own_pause_resumes"] == 1


async def test_false_alarm_service_marks_a_warning(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    device_id = _device_id(hass, mock_config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "false_alarm", {"device_id": device_id}, blocking=True
        )
    assert err.value.translation_key == "no_alarm"

    vision.script([WARNING_ANSWER] * 40)
    printer.start_job(display_name="part.bgcode", duration=7200)
    for _ in range(30):  # moderate frames that keep coming warn within minutes
        await _print_for(hass, freezer, printer, 20)
        if hass.states.get(SCORE).attributes["decision"] == "warning":
            break
    assert hass.states.get(SCORE).attributes["decision"] == "warning"

    await hass.services.async_call(
        DOMAIN, "false_alarm", {"device_id": device_id}, blocking=True
    )
    assert hass.states.get(SCORE).attributes["decision"] == "ok"
    monitor = mock_config_entry.runtime_data.monitor
    assert monitor.policy_state.false_alarms == 1
    with pytest.raises(ServiceValidationError):  # the same warning, marked twice
        await hass.services.async_call(
            DOMAIN, "false_alarm", {"device_id": device_id}, blocking=True
        )


async def test_false_alarm_button_press_without_an_alarm_is_refused(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    button = hass.data["entity_components"]["button"].get_entity(FALSE_ALARM)
    with pytest.raises(ServiceValidationError) as err:
        await button.async_press()
    assert err.value.translation_key == "no_alarm"


# --- our own pause, resumed ----------------------------------------------------------


async def test_resuming_a_pause_the_user_made_is_not_our_own(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 60)
    printer.pause()
    await _print_for(hass, freezer, printer, 30)
    printer.resume()
    await _print_for(hass, freezer, printer, 30)
    state = mock_config_entry.runtime_data.monitor.policy_state
    assert state.resumes == 1
    assert state.own_pause_resumes == 0


# --- the printer's baseline across prints and restarts --------------------------


async def test_the_baseline_learned_from_a_good_print_survives_a_reload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="good.bgcode", duration=400)
    printer.set_scene(Scene(5))
    await _print_for(hass, freezer, printer, 500)
    assert hass.states.get(STATE).state == "finished"
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )
    learned = diagnostics["detection_baseline"]["baseline"]
    assert learned is not None
    assert learned["prints"] == 1
    assert diagnostics["detection_timeline"]  # the last print's verdicts

    await advance(hass, freezer, 30)  # the delayed save is written
    key = storage_key(mock_config_entry.entry_id)
    assert hass_storage[key]["data"]["baseline"] == learned

    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )
    assert diagnostics["detection_baseline"]["baseline"] == learned
    printer.start_job(display_name="next.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 30)
    policy = mock_config_entry.runtime_data.monitor.policy_state
    assert policy.baseline is not None
    assert policy.baseline.as_dict() == learned


async def test_the_baseline_is_read_after_a_restart_and_not_learned_from_our_pause(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    stored = {"prints": 7, "mean": 12.5, "high_rate": 0.02}
    hass_storage[storage_key(mock_config_entry.entry_id)] = {
        "version": 1,
        "key": storage_key(mock_config_entry.entry_id),
        "data": {"baseline": {**stored, "junk": "x"}, "false_alarms": "nonsense"},
    }
    await _watch(hass, mock_config_entry, options)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )
    assert diagnostics["detection_baseline"]["baseline"] == {
        **stored,
        "elevated_rate": 0.0,
        "false_alarms": 0,
    }
    assert diagnostics["detection_baseline"]["false_alarms"] == []

    await _fail_and_pause(hass, freezer, printer, duration=900)
    monitor = mock_config_entry.runtime_data.monitor
    assert monitor.policy_state.baseline is not None
    assert monitor.policy_state.baseline.prints == 7
    printer.set_scene(Scene(0))
    printer.resume()
    for _ in range(200):
        printer.advance(5)
        await advance(hass, freezer, 5)
        if hass.states.get(STATE).state == "finished":
            break
    assert hass.states.get(STATE).state == "finished"
    assert monitor.baselines.baseline is not None
    assert monitor.baselines.baseline.prints == 7  # we paused it: not learned


async def test_removing_the_printer_deletes_its_baseline(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    key = storage_key(mock_config_entry.entry_id)
    hass_storage[key] = {"version": 1, "key": key, "data": {"baseline": {}}}
    await _watch(hass, mock_config_entry, options)
    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def test_the_timeline_is_bounded() -> None:
    timeline = Timeline()
    timeline.action("paused")  # nothing to note it on yet: no entry
    assert timeline.as_list() == []
    now = dt_util.utcnow()
    for number in range(MAX_ENTRIES + 50):
        timeline.error(now, f"error {number} " + "z" * 1000, "ok")
    entries = timeline.as_list()
    assert len(entries) == MAX_ENTRIES
    assert entries[0]["error"].startswith("error 50 ")
    assert len(entries[0]["error"]) <= 200
    around = timeline.false_alarm(now, "warning")
    assert len(around) == MAX_AROUND
    assert timeline.as_list()[-1]["false_alarm"] is True

    # the verdicts kept are those around the decision, however long ago it was
    timeline = Timeline()
    for number in range(100):
        timeline.error(now, f"check {number}", "ok")
        if number == 30:
            timeline.action("notified")
    around = timeline.false_alarm(now, "warning")
    assert len(around) == MAX_AROUND
    assert [e["action"] for e in around].count("notified") == 1
    assert around[0]["error"] == f"check {30 - MAX_AROUND // 2}"
    assert Timeline().false_alarm(now, "warning") == []


# --- the frame size -------------------------------------------------------------------


@pytest.mark.parametrize(("option", "long_side"), [(None, 256), ("512", 512)])
async def test_frame_long_side_option_sizes_the_openai_frames(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    option: str | None,
    long_side: int,
) -> None:
    if option is not None:
        options = {**options, CONF_FRAME_LONG_SIDE: option}
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 60)
    sizes = [size for r in vision.requests for size in r.image_sizes]
    assert sizes
    assert {max(size) for size in sizes} == {long_side}


async def test_frame_long_side_is_chosen_in_the_options_and_can_be_emptied(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    init_integration: MockConfigEntry,
) -> None:
    detection = {
        CONF_DETECTOR: "openai",
        CONF_CHECK_INTERVAL: 30,
        "frame_count": 3,
        "sensitivity": "medium",
        "policy": "sentinel",
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
        "resume_grace": 300,
    }
    openai_form = {
        CONF_OPENAI_API_KEY: API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
        "openai_model": "gpt-4.1-nano",
        "openai_image_detail": "low",
    }

    async def save(extra: dict[str, Any]) -> None:
        flow = await hass.config_entries.options.async_init(init_integration.entry_id)
        result = await hass.config_entries.options.async_configure(
            flow["flow_id"], {"next_step_id": "detection"}
        )
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**detection, **extra}
        )
        assert result["step_id"] == "detector_openai"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], openai_form
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

    await save({CONF_FRAME_LONG_SIDE: "512"})
    assert init_integration.options[CONF_FRAME_LONG_SIDE] == "512"
    assert init_integration.runtime_data.monitor.long_side == 512
    await save({})
    assert CONF_FRAME_LONG_SIDE not in init_integration.options
    assert init_integration.runtime_data.monitor.long_side == 256


@pytest.mark.parametrize(
    ("detector", "value", "expected"),
    [
        ("openai", "384", 384),
        ("openai", "999", 256),  # not one of the choices
        ("openai", "big", 256),
        ("openai", None, 256),
        ("gadget", "256", 768),  # other detectors keep their service's size
    ],
)
def test_frame_long_side_reads_the_option_tolerantly(
    detector: str, value: str | None, expected: int
) -> None:
    assert frame_long_side(detector, {CONF_FRAME_LONG_SIDE: value}) == expected


async def test_a_warning_can_come_again_after_the_print_looked_fine(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    levels: list[str] = []
    hass.bus.async_listen(
        "print_sentinel_detection", lambda event: levels.append(event.data["level"])
    )
    clean = {"failure_score": 2, "print_quality": 9, "kind": "none", "reason": "Ok."}
    vision.script([WARNING_ANSWER] * 20 + [clean] * 30 + [WARNING_ANSWER] * 20)
    printer.start_job(display_name="part.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 1500)
    assert levels.count("warning") == 2
    assert "failure" not in levels


def test_notification_texts_come_from_the_translation_and_survive_a_broken_one() -> (
    None
):
    verdict = Verdict(
        failure_score=91.4,
        print_quality=2,
        warning=True,
        pause=True,
        kind=FailureKind.SPAGHETTI,
        reason="*Tangled* filament",
        detector="openai",
        latency_ms=10.0,
    )
    prefix = f"component.{DOMAIN}.exceptions"
    translated = {
        f"{prefix}.notification_message.message": "{kind} ({score}) / {reason} / {what}",
        f"{prefix}.notification_paused.message": "Pausiert.",
    }
    assert (
        notification_message(verdict, "paused", translated)
        == "Spaghetti (91) / \\*Tangled\\* filament / Pausiert."
    )
    broken = {f"{prefix}.notification_message.message": "{nonsense} {0}"}
    assert notification_message(verdict, "cancel_failed", broken) == (
        "Spaghetti (score 91): \\*Tangled\\* filament\n\n"
        "Print Sentinel could not act (cancel_failed); check the print."
    )


async def test_a_warning_can_be_marked_false_for_an_hour_after_its_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    vision.script([WARNING_ANSWER] * 60)
    printer.start_job(display_name="part.bgcode", duration=400)
    await _print_for(hass, freezer, printer, 500)
    assert hass.states.get(SCORE).attributes["decision"] == "ok"  # the print ended
    assert hass.states.get(FALSE_ALARM).state != STATE_UNAVAILABLE  # still recent

    for _ in range(13):
        await advance(hass, freezer, 300)
    assert hass.states.get(FALSE_ALARM).state == STATE_UNAVAILABLE


async def test_removing_a_printer_without_detection_deletes_an_old_baseline(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    key = storage_key(init_integration.entry_id)
    hass_storage[key] = {"version": 1, "key": key, "data": {"baseline": {}}}
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


@pytest.mark.parametrize("clear", ["false_alarm", "reset"])
async def test_the_failure_that_paused_the_print_is_on_show_after_a_restart(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    clear: str,
) -> None:
    """Home Assistant updated itself overnight; in the morning the print is paused."""
    false_alarm = "button.prusa_mk4s_false_alarm"

    async def restart() -> None:
        await advance(hass, freezer, 30)  # the delayed save is written
        hass.data.pop(DATA_STORES)  # nothing kept in memory
        assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done()

    async def flagged_picture() -> tuple[str, bytes | None]:
        client = await hass_client()
        state = hass.states.get(FLAGGED)
        picture = state.attributes.get("entity_picture")
        if not picture:
            return state.state, None
        response = await client.get(picture)
        assert response.status == HTTPStatus.OK
        return state.state, await response.read()

    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    flagged = await flagged_picture()
    assert flagged[1] is not None and flagged[1].startswith(b"\xff\xd8")
    await restart()
    assert hass.states.get(FAILURE).state == STATE_ON
    assert hass.states.get(false_alarm).state != STATE_UNAVAILABLE
    # the picture the notification showed is still there, taken when it was
    assert await flagged_picture() == flagged
    await _print_for(hass, freezer, printer, 300)
    assert _pauses(printer) == 1

    # the user looks: it was fine; the failure goes, and stays gone
    if clear == "false_alarm":
        await hass.services.async_call(
            "button", "press", {"entity_id": false_alarm}, blocking=True
        )
    else:
        mock_config_entry.runtime_data.monitor.async_reset()
        await hass.async_block_till_done()
    assert hass.states.get(FAILURE).state == STATE_OFF
    await restart()
    assert hass.states.get(FAILURE).state == STATE_OFF
    assert printer.state == "PAUSED"


@pytest.mark.parametrize(
    "at", ["2026-12-08T01:00:00", "\ud800", "yesterday", 7, None], ids=str
)
async def test_a_stored_failure_time_that_is_odd_still_shows_the_failure(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    at: object,
) -> None:
    """A file edited by hand: no naive time, no crash in the date parser."""
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    await advance(hass, freezer, 30)
    key = storage_key(mock_config_entry.entry_id)
    hass_storage[key]["data"]["paused_failure"]["at"] = at
    hass.data.pop(DATA_STORES)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(FAILURE).state == STATE_ON
    await advance(hass, freezer, 30)
    false_alarm = hass.states.get("button.prusa_mk4s_false_alarm")
    assert false_alarm is not None and false_alarm.state != STATE_UNAVAILABLE


async def test_resuming_our_pause_after_a_restart_is_still_our_own(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    await advance(hass, freezer, 30)  # the delayed save is written
    key = storage_key(mock_config_entry.entry_id)
    assert hass_storage[key]["data"]["paused_job"] == str(printer.job_id)

    # Home Assistant restarts overnight (nothing kept in memory); in the morning
    # the user resumes
    hass.data.pop(DATA_STORES)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    printer.set_scene(Scene(0))
    printer.resume()
    await _print_for(hass, freezer, printer, 30)
    state = mock_config_entry.runtime_data.monitor.policy_state
    assert state.own_pause_resumes == 1
    await advance(hass, freezer, 30)
    assert hass_storage[key]["data"]["paused_job"] is None


async def test_an_answer_that_says_two_things_is_no_verdict(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """A key given twice (fine, then spaghetti): unclear, so never a pause."""
    twice = (
        '{"failure_score": 5, "print_quality": 9, "kind": "none", "reason": "ok", '
        '"failure_score": 95, "print_quality": 1, "kind": "spaghetti"}'
    )
    vision.script([twice] * 80)
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 900)
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF
    assert hass.states.get(SCORE).state in ("unknown", "5.0")  # never 95


def test_json_with_a_key_given_twice_is_not_json() -> None:
    with pytest.raises(NotJSON):
        loads('{"failure_score": 5, "failure_score": 95}')
    assert loads('{"a": {"b": 1}, "b": 2}') == {"a": {"b": 1}, "b": 2}
