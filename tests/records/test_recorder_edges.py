"""Records at the edges: the check signal, restarts, long prints, a disk full at the end."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import CONF_SNAPSHOT_URL
from custom_components.print_sentinel.records import async_record_check, get_recorder
from custom_components.print_sentinel.records.const import CONF_TIMELAPSE_INTERVAL
from custom_components.print_sentinel.records.recorder import PrintRecorder
from simulators.prusalink import PrusaLinkSimulator

from .test_recorder import _frames_on_disk, _print_for, _setup


@pytest.fixture
def options(printer: PrusaLinkSimulator) -> dict[str, Any]:
    """The printer's own camera, a frame every 20 s."""
    return {CONF_SNAPSHOT_URL: printer.snapshot_url, CONF_TIMELAPSE_INTERVAL: 20}


async def _restart(hass: HomeAssistant, entry: MockConfigEntry) -> PrintRecorder:
    recorder = get_recorder(entry)
    assert recorder is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await recorder.async_wait()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    recorder = get_recorder(entry)
    assert recorder is not None
    return recorder


async def test_checks_from_the_monitor_signal_go_into_the_timeline_and_chart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    entry_id = mock_config_entry.entry_id
    async_record_check(hass, entry_id, {"score": 5.0})  # no print: nothing noted
    printer.start_job(display_name="signal.bgcode", duration=120)
    await _print_for(hass, freezer, printer, 35)  # the next idle poll sees it
    async_record_check(hass, entry_id, {"warning_level": 40, "failure_level": 70})
    async_record_check(
        hass, entry_id, {"score": 12.5, "kind": "none", "reason": "r" * 1000}
    )
    async_record_check(hass, entry_id, {"error": "e" * 1000})
    async_record_check(hass, entry_id, {"type": "false_alarm", "score": 1})
    async_record_check(hass, "another-entry", {"score": 99.0})
    record = recorder.record
    assert record is not None
    checks = [e for e in record.timeline if e["type"] == "check"]
    assert len(checks) == 2
    assert checks[0]["score"] == 12.5 and len(checks[0]["reason"]) == 300
    assert len(checks[1]["error"]) == 200
    assert [e["type"] for e in record.timeline if e["type"] != "check"] == [
        "levels",
        "levels",
        "false_alarm",
    ]
    await _print_for(hass, freezer, printer, 130)
    await recorder.async_wait()
    assert recorder.last_record is record
    assert record.outcome == "finished" and record.chart == "chart.png"


async def test_a_job_gone_after_a_restart_is_interrupted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    printer.start_job(display_name="lost.bgcode", duration=3600)
    await _print_for(hass, freezer, printer, 90)
    await recorder.async_wait()
    assert await _frames_on_disk(hass, recorder) >= 3
    printer.reboot()  # the printer lost the job while Home Assistant was away
    recorder = await _restart(hass, mock_config_entry)
    await recorder.async_wait()
    assert recorder.record is None
    index = await hass.async_add_executor_job(recorder.store.index)
    assert [(e["file_name"], e["outcome"]) for e in index] == [
        ("lost.bgcode", "interrupted")
    ]
    assert recorder.last_record is not None
    assert recorder.last_record.timelapse == "timelapse.webp"

    # a different job running after a restart: the old record ends, a new begins
    printer.start_job(display_name="a.bgcode", duration=3600)
    await _print_for(hass, freezer, printer, 30)
    await recorder.async_wait()
    printer.cancel()
    printer.start_job(display_name="b.bgcode", duration=3600)
    recorder = await _restart(hass, mock_config_entry)
    await recorder.async_wait()
    assert recorder.record is not None and recorder.record.file_name == "b.bgcode"
    index = await hass.async_add_executor_job(recorder.store.index)
    assert [(e["file_name"], e["outcome"]) for e in index][1:] == [
        ("a.bgcode", "interrupted"),
        ("lost.bgcode", "interrupted"),
    ]


async def test_a_long_print_is_thinned_and_its_timeline_capped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    with (
        patch(
            "custom_components.print_sentinel.records.recorder.MAX_TIMELAPSE_FRAMES", 6
        ),
        patch(
            "custom_components.print_sentinel.records.recorder.MAX_TIMELINE_ENTRIES",
            10,
        ),
    ):
        printer.start_job(display_name="long.bgcode", duration=3600)
        await _print_for(hass, freezer, printer, 35)
        entry_id = mock_config_entry.entry_id
        async_record_check(hass, entry_id, {"score": 60.0, "decision": "warning"})
        for _ in range(20):
            async_record_check(hass, entry_id, {"score": 10.0, "decision": "ok"})
        await _print_for(hass, freezer, printer, 400)
        await recorder.async_wait()
        record = recorder.record
        assert record is not None
        assert len(record.timeline) == 10
        assert record.timeline[0]["decision"] == "warning"  # decisions are kept
        # 6 frames in 100 s, thinned to 3, then every 40 s, thinned again...
        assert record.frame_interval is not None and record.frame_interval >= 40
        assert 3 <= await _frames_on_disk(hass, recorder) <= 6


async def test_a_disk_full_at_the_end_keeps_the_record_without_timelapse(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    printer.start_job(display_name="end.bgcode", duration=150)
    await _print_for(hass, freezer, printer, 120)
    await recorder.async_wait()
    assert await _frames_on_disk(hass, recorder) >= 4
    with patch(
        "custom_components.print_sentinel.records.recorder.assemble",
        side_effect=OSError(28, "No space left on device"),
    ):
        await _print_for(hass, freezer, printer, 40)
        await recorder.async_wait()
    index = await hass.async_add_executor_job(recorder.store.index)
    assert [(e["file_name"], e["outcome"]) for e in index] == [
        ("end.bgcode", "finished")
    ]
    record = await hass.async_add_executor_job(recorder.store.read, index[0]["id"])
    assert record is not None
    assert record.timelapse is None
    assert record.chart == "chart.png"  # drawn before the timelapse failed
    frames = recorder.store.frames_dir(record.id)
    assert not await hass.async_add_executor_job(frames.exists)  # space freed
    assert record.recording_stopped is not None
    assert "No space" in record.recording_stopped
    issue_id = f"recording_stopped_{mock_config_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue("print_sentinel", issue_id) is not None
