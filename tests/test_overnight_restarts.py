"""Detection left on overnight, with Home Assistant restarting (an update) or the
printer's options saved mid-print: what the user said about this print stays said."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.detection.baseline import DATA_STORES, storage_key
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from . import test_overnight
from .common import advance
from .test_overnight import (
    FAILURE,
    FALSE_ALARM,
    FLAGGED,
    SCORE,
    WARNING_ANSWER,
    _fail_and_pause,
    _pauses,
    _print_for,
    _watch,
)

options = test_overnight.options  # the fixture: OpenAI, pause on failure
USAGE = "sensor.prusa_mk4s_ai_usage_today"


async def _down(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Home Assistant stops: what waits to be saved is written; nothing is kept."""
    await advance(hass, freezer, 5)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    hass.data.pop(DATA_STORES, None)


async def _up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    await _down(hass, freezer, entry)
    await _up(hass, entry)


@pytest.mark.parametrize("score", [60, 85])
@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
async def test_a_resumed_pause_stays_overruled_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    restart: bool,
    score: int,
) -> None:
    """The user resumed our pause: what was in view is normal for this print."""
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    printer.set_scene(Scene(score, "spaghetti"))  # the same view, "it is fine"
    printer.resume()
    await _print_for(hass, freezer, printer, 120)
    if restart:
        await _restart(hass, freezer, mock_config_entry)
    await _print_for(hass, freezer, printer, 900)
    assert _pauses(printer) == 1
    assert printer.state == "PRINTING"
    assert mock_config_entry.runtime_data.monitor.policy_state.own_pause_resumes == 1


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
async def test_a_warning_marked_false_stays_false_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    restart: bool,
) -> None:
    await _watch(hass, mock_config_entry, options)
    vision.script([WARNING_ANSWER] * 400)
    printer.start_job(display_name="part.bgcode", duration=7200)
    for _ in range(40):
        await _print_for(hass, freezer, printer, 20)
        if hass.states.get(SCORE).attributes["decision"] == "warning":
            break
    assert hass.states.get(SCORE).attributes["decision"] == "warning"
    await hass.services.async_call(
        "button", "press", {"entity_id": FALSE_ALARM}, blocking=True
    )
    if restart:
        await _restart(hass, freezer, mock_config_entry)
    seen = set()
    for _ in range(45):
        await _print_for(hass, freezer, printer, 20)
        seen.add(hass.states.get(SCORE).attributes["decision"])
    assert seen == {"ok"}
    state = mock_config_entry.runtime_data.monitor.policy_state
    assert state.false_alarms == 1


async def test_what_the_user_said_is_forgotten_with_its_print(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer, duration=600)
    printer.set_scene(Scene(0))
    printer.resume()
    await _print_for(hass, freezer, printer, 60)
    await advance(hass, freezer, 30)
    key = storage_key(mock_config_entry.entry_id)
    kept = hass_storage[key]["data"]["overrulings"]
    assert kept["job"] == str(printer.job_id)
    assert kept["own_pause_resumes"] == 1
    for _ in range(120):  # the print ends; the next one starts clean
        await _print_for(hass, freezer, printer, 10)
        if printer.state == "FINISHED":
            break
    printer.start_job(display_name="next.bgcode", duration=3600)
    await _print_for(hass, freezer, printer, 60)
    await _restart(hass, freezer, mock_config_entry)
    state = mock_config_entry.runtime_data.monitor.policy_state
    assert (state.own_pause_resumes, state.false_alarms) == (0, 0)
    assert hass_storage[key]["data"]["overrulings"] is None


@pytest.mark.parametrize(
    "overrulings",
    [
        "junk",
        {"job": 5},
        {"job": "JOB", "policy": "sentinel", "false_alarms": "many", "core": []},
        {
            "job": "JOB",
            "policy": "sentinel",
            "own_pause_resumes": 10**12,
            "core": {"overruled": -4, "floor_bad": 1e308, "overruled_level": "x"},
        },
        {"job": "JOB", "policy": "obico", "false_alarms": 3},
    ],
    ids=["not_a_dict", "odd_job", "odd_fields", "huge", "another_policy"],
)
async def test_odd_overrulings_on_disk_are_read_safely(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    overrulings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hand-edited file: detection runs, its bar at most as high as allowed."""
    printer.start_job(display_name="part.bgcode", duration=7200)
    if isinstance(overrulings, dict) and overrulings.get("job") == "JOB":
        overrulings = {**overrulings, "job": str(printer.job_id)}
    key = storage_key(mock_config_entry.entry_id)
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"overrulings": overrulings},
    }
    await _watch(hass, mock_config_entry, options)
    await _print_for(hass, freezer, printer, 60)
    state = mock_config_entry.runtime_data.monitor.policy_state
    assert state.checks > 0
    assert 0 <= state.own_pause_resumes <= 1000
    assert state.core.overruled >= 0  # type: ignore[attr-defined]
    assert state.core.floor_bad <= 0.6  # type: ignore[attr-defined]
    assert "Traceback" not in caplog.text and "ERROR" not in caplog.text


async def test_a_reset_while_paused_is_still_a_reset_after_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    mock_config_entry.runtime_data.monitor.async_reset()
    await hass.async_block_till_done()
    await _restart(hass, freezer, mock_config_entry)
    printer.set_scene(Scene(0))
    printer.resume()
    await _print_for(hass, freezer, printer, 30)
    # not the resume of our pause: the bar did not rise
    assert mock_config_entry.runtime_data.monitor.policy_state.own_pause_resumes == 0


async def test_a_pause_resumed_while_home_assistant_was_down_is_over(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    await _down(hass, freezer, mock_config_entry)
    printer.set_scene(Scene(0))
    printer.resume()  # at the printer, while Home Assistant is down
    await _up(hass, mock_config_entry)
    await _print_for(hass, freezer, printer, 120)
    assert hass.states.get(FAILURE).state == STATE_OFF
    monitor = mock_config_entry.runtime_data.monitor
    assert monitor.policy_state.own_pause_resumes == 1  # the user overruled it

    # later the user pauses to swap filament; Home Assistant restarts meanwhile
    printer.pause()
    await _print_for(hass, freezer, printer, 20)
    await _restart(hass, freezer, mock_config_entry)
    await _print_for(hass, freezer, printer, 10)
    assert hass.states.get(FAILURE).state == STATE_OFF  # no old failure back
    assert hass.states.get(FLAGGED).attributes.get("entity_picture") is None
    assert hass.states.get(FALSE_ALARM).state == STATE_UNAVAILABLE
    printer.resume()
    await _print_for(hass, freezer, printer, 20)
    # resuming the user's own pause is not a resume of ours
    assert mock_config_entry.runtime_data.monitor.policy_state.own_pause_resumes == 1


async def test_the_restored_failure_shows_its_score(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    await _fail_and_pause(hass, freezer, printer)
    before = hass.states.get(SCORE)
    last_check = hass.states.get("sensor.prusa_mk4s_last_check")
    await _restart(hass, freezer, mock_config_entry)
    assert hass.states.get(FAILURE).state == STATE_ON
    after = hass.states.get(SCORE)
    assert after.state == before.state
    assert after.attributes["kind"] == before.attributes["kind"] == "spaghetti"
    assert after.attributes["reason"] == before.attributes["reason"]
    assert hass.states.get("sensor.prusa_mk4s_last_check").state not in (
        "unknown",
        STATE_UNAVAILABLE,
    )
    assert last_check is not None


async def test_ai_usage_today_and_this_print_survive_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    """What the detector cost today does not start again at zero after a restart."""
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 200)
    before = hass.states.get(USAGE)
    assert int(before.state) > 0
    await _restart(hass, freezer, mock_config_entry)
    after = hass.states.get(USAGE)
    assert after.state == before.state
    for name in ("calls_this_print", "tokens_today", "cost_today_usd"):
        assert after.attributes[name] == before.attributes[name], name
    await _print_for(hass, freezer, printer, 60)
    assert int(hass.states.get(USAGE).state) > int(before.state)  # counts on

    # the next print counts from zero; today goes on
    printer.cancel()
    await _print_for(hass, freezer, printer, 30)
    printer.start_job(display_name="next.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 10)
    await _restart(hass, freezer, mock_config_entry)
    now = hass.states.get(USAGE)
    assert now.attributes["calls_this_print"] == 0
    assert int(now.state) > int(before.state)


async def test_ai_usage_of_yesterday_is_not_today(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    await _watch(hass, mock_config_entry, options)
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 120)
    assert int(hass.states.get(USAGE).state) > 0
    await _down(hass, freezer, mock_config_entry)
    freezer.tick(24 * 3600)  # Home Assistant was down for a day
    await _up(hass, mock_config_entry)
    usage = hass.states.get(USAGE)
    assert usage.state == "0"
    assert usage.attributes["calls_this_print"] > 0  # the same print goes on
