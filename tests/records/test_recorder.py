"""Print records in Home Assistant: a watched print leaves a timelapse, a chart, flags."""

from __future__ import annotations

from collections.abc import Generator
import io
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import block_async_io
from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
)
from custom_components.print_sentinel.records import get_recorder
from custom_components.print_sentinel.records.const import (
    CONF_RECORDS_KEEP,
    CONF_RECORDS_MAX_MB,
    CONF_TIMELAPSE_INTERVAL,
)
from custom_components.print_sentinel.records.recorder import (
    EVENT_RECORD,
    PrintRecorder,
)
from custom_components.print_sentinel.records.store import PrintRecord
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from ..common import advance
from ..conftest import VISION_API_KEY

STATE = "sensor.prusa_mk4s_printer_state"
CHART = "image.prusa_mk4s_last_print_chart"


@pytest.fixture
def loop_guard(
    disable_block_async_io: None, monkeypatch: pytest.MonkeyPatch
) -> Generator[None]:
    """Home Assistant's blocking-call detector, as in a real installation.

    In tests it leaves out file access (open, read_bytes, listdir...); here it
    watches those too, since they are what records do.
    """
    monkeypatch.setattr(block_async_io, "_IN_TESTS", False)
    block_async_io.enable()
    yield


async def _setup(
    hass: HomeAssistant, entry: MockConfigEntry, options: dict[str, Any]
) -> PrintRecorder:
    assert await async_setup_component(hass, "media_source", {})
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    recorder = get_recorder(entry)
    assert recorder is not None
    return recorder


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


async def _frames_on_disk(hass: HomeAssistant, recorder: PrintRecorder) -> int:
    record = recorder.record
    assert record is not None
    folder = recorder.store.frames_dir(record.id)
    return await hass.async_add_executor_job(
        lambda: len(list(folder.glob("*.jpg"))) if folder.is_dir() else 0
    )


@pytest.fixture
def options(printer: PrusaLinkSimulator) -> dict[str, Any]:
    """The printer's own camera, a frame every 20 s, no detection."""
    return {CONF_SNAPSHOT_URL: printer.snapshot_url, CONF_TIMELAPSE_INTERVAL: 20}


@pytest.fixture
def detection(
    printer: PrusaLinkSimulator, vision: OpenAISimulator, options: dict[str, Any]
) -> dict[str, Any]:
    """As `options`, with the OpenAI-compatible detector pausing on failure."""
    return {
        **options,
        CONF_DETECTOR: "openai",
        CONF_OPENAI_API_KEY: VISION_API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
        CONF_CHECK_INTERVAL: 20,
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
    }


async def test_frames_only_while_printing_at_the_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    await _print_for(hass, freezer, printer, 60)
    assert recorder.record is None  # idle: no record, no frames
    printer.start_job(display_name="benchy.bgcode", duration=7200)
    await _print_for(hass, freezer, printer, 200)
    await recorder.async_wait()
    assert 9 <= await _frames_on_disk(hass, recorder) <= 11  # at once, then every 20 s
    printer.pause()
    await _print_for(hass, freezer, printer, 10)  # Home Assistant sees the pause
    await recorder.async_wait()
    assert hass.states.get(STATE).state == "paused"
    taken = await _frames_on_disk(hass, recorder)
    await _print_for(hass, freezer, printer, 200)
    await recorder.async_wait()
    assert await _frames_on_disk(hass, recorder) == taken
    printer.resume()
    await _print_for(hass, freezer, printer, 100)
    await recorder.async_wait()
    assert taken + 4 <= await _frames_on_disk(hass, recorder) <= taken + 6
    assert [e["type"] for e in recorder.record.timeline] == ["pause", "resume"]  # type: ignore[union-attr]
    assert recorder.record.timeline[0]["by"] == "user"  # type: ignore[union-attr]


async def test_watched_print_leaves_timelapse_chart_and_flagged_frame(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    detection: dict[str, Any],
    hass_client: ClientSessionGenerator,
    loop_guard: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = await _setup(hass, mock_config_entry, detection)
    # no chart yet: no picture to ask for (the image proxy would answer 500)
    assert "entity_picture" not in hass.states.get(CHART).attributes
    recorded: list[Event] = []
    hass.bus.async_listen(EVENT_RECORD, recorded.append)
    printer.start_job(display_name="spaghetti.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 300)
    printer.set_scene(Scene(92, "spaghetti"))
    await _print_for(hass, freezer, printer, 120)
    await recorder.async_wait()
    assert hass.states.get(STATE).state == "paused"
    # the chart is there at the pause, before the print ends
    assert hass.states.get(CHART).state not in ("unknown", "unavailable")
    assert "entity_picture" in hass.states.get(CHART).attributes
    printer.cancel()
    await _print_for(hass, freezer, printer, 20)
    await recorder.async_wait()
    await hass.async_block_till_done()

    assert "Detected blocking call" not in caplog.text
    assert len(recorded) == 1
    data = recorded[0].data
    assert data["outcome"] == "paused_by_sentinel"
    assert data["timelapse_format"] == "webp"
    assert data["chart_entity_id"] == CHART
    base = f"/api/{DOMAIN}/records/{mock_config_entry.entry_id}/{data['record_id']}"
    assert data["chart_url"] == f"{base}/chart.png"
    assert data["timelapse_url"] == f"{base}/timelapse.webp"
    assert data["chart"] == (
        f"media-source://{DOMAIN}/{mock_config_entry.entry_id}/"
        f"{data['record_id']}/chart.png"
    )
    record = recorder.last_record
    assert record is not None
    assert record.file_name == "spaghetti.bgcode"
    assert record.material == "PLA"
    assert record.duration_s is not None and record.duration_s >= 380
    types = [e["type"] for e in record.timeline]
    checks = [e for e in record.timeline if e["type"] == "check"]
    assert len(checks) >= 15
    assert all(isinstance(c["score"], float) for c in checks)
    assert checks[-1]["decision"] == "failure"
    assert types.index("warning") < types.index("failure")
    pause = record.timeline[types.index("pause")]
    assert pause["by"] == "sentinel"
    assert record.flagged and record.timeline[types.index("failure")]["frame"]

    # the media browser: printers, then prints, then their files
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [c.title for c in root.children] == ["Prusa MK4S"]
    printer_node = await media_source.async_browse_media(
        hass, root.children[0].media_content_id
    )
    assert len(printer_node.children) == 1
    title = printer_node.children[0].title
    assert "spaghetti.bgcode" in title and "paused by Print Sentinel" in title
    print_node = await media_source.async_browse_media(
        hass, printer_node.children[0].media_content_id
    )
    titles = [c.title for c in print_node.children]
    # the warning before the failure flagged a frame too
    assert titles == [
        "Timelapse (webp)",
        "Detection timeline",
        "Flagged frame 1",
        "Flagged frame 2",
    ]
    client = await hass_client()
    for child, mime in zip(
        print_node.children,
        ("image/webp", "image/png", "image/jpeg", "image/jpeg"),
        strict=True,
    ):
        assert child.can_play
        resolved = await media_source.async_resolve_media(
            hass, child.media_content_id, None
        )
        assert resolved.mime_type == mime
        response = await client.get(resolved.url)
        assert response.status == 200
        assert response.content_type == mime
        body = await response.read()
        with Image.open(io.BytesIO(body)) as img:
            if mime == "image/webp":
                # a frame every 20 s while printing (not while paused), shown
                # at 24 a second (libwebp merges
                # identical frames, so count the time they show, not the frames)
                assert 12 <= record.frames <= 22
                shown = 0
                for index in range(img.n_frames):
                    img.seek(index)
                    img.load()
                    shown += img.info["duration"]
                assert abs(shown - record.frames * 42) <= record.frames
            if mime == "image/png":
                assert img.size == (1280, 720)
    # the chart image entity shows the same chart
    chart_response = await client.get(
        hass.states.get(CHART).attributes["entity_picture"]
    )
    assert chart_response.status == 200
    resolved = await media_source.async_resolve_media(
        hass, print_node.children[1].media_content_id, None
    )
    assert await chart_response.read() == await (await client.get(resolved.url)).read()


async def test_media_source_refuses_what_is_not_a_record(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
    hass_client: ClientSessionGenerator,
) -> None:
    await _setup(hass, mock_config_entry, options)
    entry_id = mock_config_entry.entry_id
    for bad in (
        f"{entry_id}/x",
        f"{entry_id}/../../secrets.yaml",
        "nope/rec/chart.png",
        f"{entry_id}/rec/record.json",
    ):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_resolve_media(
                hass, f"media-source://{DOMAIN}/{bad}", None
            )
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(
            hass, f"media-source://{DOMAIN}/{entry_id}/no-such-print"
        )
    client = await hass_client()
    for path in (
        f"/api/{DOMAIN}/records/{entry_id}/rec/record.json",
        f"/api/{DOMAIN}/records/{entry_id}/..%2F..%2Fx/chart.png",
        f"/api/{DOMAIN}/records/other/rec/chart.png",
    ):
        assert (await client.get(path)).status in (400, 404)


async def test_caps_hold_across_prints_and_restarts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    options = {**options, CONF_RECORDS_KEEP: 2, CONF_RECORDS_MAX_MB: 50}
    recorder = await _setup(hass, mock_config_entry, options)
    for number in range(1, 4):
        printer.start_job(display_name=f"part{number}.bgcode", duration=100)
        await _print_for(hass, freezer, printer, 120)
        await recorder.async_wait()
        if number == 2:
            assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
            await hass.async_block_till_done()
            recorder = get_recorder(mock_config_entry)  # type: ignore[assignment]
            assert recorder.last_record is not None  # the chart survives
            assert recorder.last_record.file_name == "part2.bgcode"
    index = await hass.async_add_executor_job(recorder.store.index)
    assert [e["file_name"] for e in index] == ["part3.bgcode", "part2.bgcode"]
    assert all(e["outcome"] == "finished" for e in index)


async def test_a_print_running_over_a_restart_goes_on_in_its_record(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    printer.start_job(display_name="long.bgcode", duration=600)
    await _print_for(hass, freezer, printer, 100)
    await recorder.async_wait()
    first = recorder.record
    assert first is not None
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await recorder.async_wait()
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    recorder = get_recorder(mock_config_entry)  # type: ignore[assignment]
    assert recorder.record is not None and recorder.record.id == first.id
    await _print_for(hass, freezer, printer, 520)
    await recorder.async_wait()
    index = await hass.async_add_executor_job(recorder.store.index)
    assert len(index) == 1 and index[0]["outcome"] == "finished"
    assert recorder.last_record is not None
    assert recorder.last_record.timelapse == "timelapse.webp"


async def test_full_disk_stops_recording_not_detection_or_the_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    detection: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, detection)
    printer.start_job(display_name="full.bgcode", duration=7200)
    printer.set_scene(Scene(0))
    await _print_for(hass, freezer, printer, 60)
    await recorder.async_wait()
    with patch(
        "custom_components.print_sentinel.records.store.RecordStore.free_bytes",
        return_value=1024,
    ):
        await _print_for(hass, freezer, printer, 120)
        await recorder.async_wait()
        assert recorder.stopped == "the disk is almost full"
        issues = [
            i
            for i in ir.async_get(hass).issues.values()
            if i.translation_key == "recording_stopped"
        ]
        assert len(issues) == 1
        checks_before = len(vision.requests)
        frames = await _frames_on_disk(hass, recorder)
        printer.set_scene(Scene(92, "spaghetti"))
        await _print_for(hass, freezer, printer, 120)
        await recorder.async_wait()
        # detection went on and paused the failing print; recording did not
        assert len(vision.requests) > checks_before
        assert hass.states.get(STATE).state == "paused"
        assert await _frames_on_disk(hass, recorder) == frames


async def test_write_error_stops_recording_and_the_next_print_tries_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    options: dict[str, Any],
) -> None:
    recorder = await _setup(hass, mock_config_entry, options)
    printer.start_job(display_name="one.bgcode", duration=200)
    with patch(
        "custom_components.print_sentinel.records.recorder.write_frame",
        side_effect=OSError(28, "No space left on device"),
    ):
        await _print_for(hass, freezer, printer, 60)
        await recorder.async_wait()
        assert recorder.stopped is not None and "No space" in recorder.stopped
        assert hass.states.get(STATE).state == "printing"
    await _print_for(hass, freezer, printer, 180)
    await recorder.async_wait()
    issue_id = f"recording_stopped_{mock_config_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    printer.start_job(display_name="two.bgcode", duration=100)
    await _print_for(hass, freezer, printer, 120)
    await recorder.async_wait()
    assert recorder.stopped is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert recorder.last_record is not None
    assert recorder.last_record.file_name == "two.bgcode"
    assert recorder.last_record.timelapse == "timelapse.webp"


def test_records_are_plain_json(tmp_path: Path) -> None:
    record = PrintRecord(id="x", started="2026-12-03T03:00:00+00:00", frames=3)
    assert PrintRecord.from_dict({**record.as_dict(), "unknown": 1}) == record


async def test_a_printer_without_camera_gets_a_record_without_timelapse(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    recorder = await _setup(hass, mock_config_entry, {CONF_TIMELAPSE_INTERVAL: 20})
    printer.start_job(display_name="blind.bgcode", duration=300)
    await _print_for(hass, freezer, printer, 320)
    await recorder.async_wait()
    # the printer has no camera: no thumbnail is fetched as a "frame"
    assert not [r for r in printer.requests if r.path.startswith("/thumb/")]
    record = recorder.last_record
    assert record is not None
    assert record.outcome == "finished"
    assert record.timelapse is None and record.frames == 0
    assert record.chart == "chart.png"
