"""Records on disk without Home Assistant: the store and its caps, the chart, the timelapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import io
from pathlib import Path
import shutil
import uuid

import imageio_ffmpeg
from PIL import Image
import pytest

from custom_components.print_sentinel.records import chart, timelapse
from custom_components.print_sentinel.records.const import (
    TIMELAPSE_INTERVAL,
    TIMELAPSE_LAYER,
)
from custom_components.print_sentinel.records.store import (
    PrintRecord,
    RecordStore,
    StorageError,
    safe_name,
)

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def _jpeg(color: tuple[int, int, int], size: tuple[int, int] = (1280, 720)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90)
    return out.getvalue()


def _record(store: RecordStore, number: int, size: int = 1000) -> PrintRecord:
    record = PrintRecord(
        id=f"rec-{number:02d}",
        started=(T0 + timedelta(hours=number)).isoformat(),
        file_name=f"part{number}.bgcode",
    )
    store.save(record)
    (store.folder(record.id) / "chart.png").write_bytes(b"x" * size)
    return record


# --- the store ----------------------------------------------------------------


def test_index_is_newest_first_and_survives_a_lost_index(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "entry")
    for number in (2, 1, 3):
        _record(store, number)
    assert [e["id"] for e in store.index()] == ["rec-03", "rec-02", "rec-01"]
    (store.root / "index.json").write_text("{not json")
    assert [e["id"] for e in store.index()] == ["rec-03", "rec-02", "rec-01"]
    (store.root / "index.json").unlink()
    assert [e["id"] for e in RecordStore(store.root).index()] == [
        "rec-03",
        "rec-02",
        "rec-01",
    ]
    assert store.read("rec-02") == PrintRecord.from_dict(
        store.read("rec-02").as_dict()  # type: ignore[union-attr]
    )


def test_keep_last_n_deletes_the_oldest_and_never_the_running_print(
    tmp_path: Path,
) -> None:
    store = RecordStore(tmp_path / "entry")
    for number in range(1, 6):
        _record(store, number)
    assert store.enforce_caps(keep=3, max_bytes=10**9, protect="rec-01") == [
        "rec-02",
        "rec-03",
    ]
    assert [e["id"] for e in store.index()] == ["rec-05", "rec-04", "rec-01"]
    assert not (store.root / "rec-02").exists()
    assert (store.root / "rec-01").exists()


def test_max_bytes_measured_on_disk(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "entry")
    for number in range(1, 5):
        _record(store, number, size=100_000)
    # a file the index does not know of still counts
    (store.folder("rec-04") / "timelapse.webp").write_bytes(b"y" * 150_000)
    deleted = store.enforce_caps(keep=100, max_bytes=360_000)
    assert deleted == ["rec-01", "rec-02"]
    assert 350_000 <= store.total_bytes() <= 360_000
    assert [e["id"] for e in store.index()] == ["rec-04", "rec-03"]


def test_unsafe_names_are_refused(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "entry")
    _record(store, 1)
    assert store.file("rec-01", "chart.png") is not None
    for name in ("../index.json", "..", "a/b", "", ".hidden"):
        assert not safe_name(name)
        assert store.file("rec-01", name) is None
        assert store.file(name, "chart.png") is None
        assert store.read(name) is None
    with pytest.raises(ValueError):
        store.folder("../x")


def test_a_failed_write_is_a_storage_error_and_keeps_the_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RecordStore(tmp_path / "entry")
    record = _record(store, 1)
    record.outcome = "finished"
    # a folder where the temporary file would go: the write fails
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=0))
    (store.folder(record.id) / f"record.json.{uuid.UUID(int=0).hex}.tmp").mkdir()
    with pytest.raises(StorageError):
        store.save(record)
    assert store.read(record.id).outcome is None  # type: ignore[union-attr]


def test_two_writers_of_one_file_do_not_break_each_other(tmp_path: Path) -> None:
    """A recorder finishing after a reload writes beside the new one: no error."""
    from concurrent.futures import ThreadPoolExecutor

    store = RecordStore(tmp_path / "entry")
    records = [_record(store, number) for number in range(1, 4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(store.save, records[0]) for _ in range(40)]:
            future.result()  # raises StorageError if one moved another's file
    assert store.read(records[0].id) is not None
    assert not list(store.folder(records[0].id).glob("*.tmp"))


# --- timelapse ----------------------------------------------------------------


def test_frame_due_per_interval_and_per_layer() -> None:
    def due(**kwargs: object) -> bool:
        args: dict[str, object] = {
            "mode": TIMELAPSE_INTERVAL,
            "now": 100.0,
            "last_time": None,
            "interval": 30.0,
            "layer": None,
            "last_layer": None,
        }
        args.update(kwargs)
        return timelapse.frame_due(**args)  # type: ignore[arg-type]

    assert due()
    assert not due(last_time=80.0)
    assert due(last_time=70.0)
    assert due(mode=TIMELAPSE_LAYER, layer=3, last_layer=2, last_time=99.0)
    assert not due(mode=TIMELAPSE_LAYER, layer=3, last_layer=3, last_time=0.0)
    # a printer that reports no layer: per interval
    assert due(mode=TIMELAPSE_LAYER, layer=None, last_time=60.0)


def test_thin_keeps_every_other_frame_in_order(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    for number in range(1, 8):
        timelapse.write_frame(frames, number, _jpeg((number * 30, 0, 0), (64, 36)))
    assert timelapse.thin(frames) == 4
    names = [p.name for p in timelapse.frame_paths(frames)]
    assert names == ["000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg"]
    with Image.open(frames / "000002.jpg") as img:
        assert abs(img.convert("RGB").getpixel((5, 5))[0] - 90) < 8  # was frame 3


def test_webp_timelapse_has_every_frame_in_order(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    for number in range(1, 13):
        timelapse.write_frame(
            frames, number, _jpeg((number * 20, 255 - number * 20, 0))
        )
    result = timelapse.assemble(tmp_path, frames, None, 12)
    assert result == ("timelapse.webp", "webp")
    assert not frames.exists()
    with Image.open(tmp_path / "timelapse.webp") as anim:
        assert anim.n_frames == 12
        assert anim.size == (640, 360)
        for index in (0, 5, 11):
            anim.seek(index)
            red = anim.convert("RGB").getpixel((320, 180))[0]
            assert abs(red - (index + 1) * 20) < 12


def test_timelapse_falls_back_to_webp_when_ffmpeg_is_missing_or_fails(
    tmp_path: Path,
) -> None:
    frames = tmp_path / "frames"
    timelapse.write_frame(frames, 1, _jpeg((0, 0, 255)))
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    fake.chmod(0o755)
    assert timelapse.assemble(tmp_path, frames, str(fake), 24) == (
        "timelapse.webp",
        "webp",
    )
    assert not (tmp_path / "timelapse.mp4").exists()
    assert timelapse.assemble(tmp_path, tmp_path / "none", None, 24) is None


def test_mp4_timelapse_with_ffmpeg(tmp_path: Path) -> None:
    """A real ffmpeg: the system's, else the static one of imageio-ffmpeg."""
    ffmpeg = shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()
    frames = tmp_path / "frames"
    for number in range(1, 25):
        timelapse.write_frame(frames, number, _jpeg((number * 10, 0, 0), (641, 361)))
    assert timelapse.assemble(tmp_path, frames, ffmpeg, 24) == (
        "timelapse.mp4",
        "mp4",
    )
    assert (tmp_path / "timelapse.mp4").read_bytes()[4:8] == b"ftyp"


# --- the chart ------------------------------------------------------------------


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def _timeline() -> list[dict[str, object]]:
    timeline: list[dict[str, object]] = [
        {"t": _at(m), "type": "check", "score": 10.0, "decision": "ok"}
        for m in range(2, 30, 2)
    ]
    timeline += [
        {"t": _at(30), "type": "check", "score": 60.0, "decision": "warning"},
        {"t": _at(30.1), "type": "warning", "action": "notified", "score": 60.0},
        {"t": _at(32), "type": "check", "error": "timeout"},
        {"t": _at(36), "type": "check", "error": "timeout"},
        {"t": _at(40), "type": "check", "score": 90.0, "decision": "failure"},
        {"t": _at(40.1), "type": "failure", "action": "paused", "frame": "f.jpg"},
        {"t": _at(40.5), "type": "pause", "by": "sentinel"},
        {"t": _at(70), "type": "false_alarm"},
        {"t": _at(75), "type": "resume"},
    ]
    timeline += [
        {"t": _at(m), "type": "check", "score": 15.0, "decision": "ok"}
        for m in range(80, 120, 4)
    ]
    return timeline


def _draw(tmp_path: Path, timeline: list[dict[str, object]]) -> Image.Image:
    flagged = tmp_path / "f.jpg"
    flagged.write_bytes(_jpeg((0, 220, 0), (768, 432)))
    spec = chart.ChartSpec(
        title="Prusa MK4S · benchy.bgcode · paused by Print Sentinel",
        start=T0,
        end=T0 + timedelta(minutes=120),
        timeline=timeline,
        warning_level=50,
        failure_level=80,
        flagged=[(T0 + timedelta(minutes=40), flagged)]
        if any(e.get("frame") for e in timeline)
        else [],
    )
    image = Image.open(io.BytesIO(chart.draw_chart(spec))).convert("RGB")
    assert image.size == (chart.WIDTH, chart.HEIGHT)
    return image


def _share(image: Image.Image, x: int, color: tuple[int, int, int]) -> float:
    """Share of the plot's rows at column x that are `color`."""
    rows = range(chart.TOP + 20, chart.BOTTOM - 2)
    return sum(image.getpixel((x, y)) == color for y in rows) / len(rows)


def _near(image: Image.Image, x: int, y: int, color: tuple[int, int, int]) -> bool:
    return any(
        image.getpixel((x + dx, y + dy)) == color
        for dx in range(-2, 3)
        for dy in range(-2, 3)
    )


def test_chart_shows_warning_pause_resume_false_alarm_errors_and_frame(
    tmp_path: Path,
) -> None:
    image = _draw(tmp_path, _timeline())
    layout = chart.Layout(T0, T0 + timedelta(minutes=120))

    def x(minutes: float) -> int:
        return layout.x(T0 + timedelta(minutes=minutes))

    # pause, resume and the false-alarm mark are full-height lines of their colour
    assert _share(image, x(40.5), chart.PAUSE_COLOR) > 0.8
    assert _share(image, x(75), chart.RESUME_COLOR) > 0.8
    assert _share(image, x(70), chart.FALSE_ALARM_COLOR) > 0.8
    # the detector errors are a grey gap: no score line crosses it
    assert _share(image, x(35), chart.GAP_COLOR) > 0.9
    assert _share(image, x(35), chart.SCORE_COLOR) == 0
    # nothing was checked while paused: no line across the pause either
    assert _share(image, x(60), chart.SCORE_COLOR) == 0
    # the score follows the checks
    assert _near(image, x(20), layout.y(10), chart.SCORE_COLOR)
    assert _near(image, x(30), layout.y(60), chart.SCORE_COLOR)
    assert _near(image, x(40), layout.y(90), chart.SCORE_COLOR)
    assert _near(image, x(100), layout.y(15), chart.SCORE_COLOR)
    assert not _near(image, x(100), layout.y(60), chart.SCORE_COLOR)
    # the warning and failure levels are dashed lines across the plot
    for level, color in ((50, chart.WARNING_COLOR), (80, chart.FAILURE_COLOR)):
        row = [image.getpixel((px, layout.y(level))) for px in range(x(85), x(115))]
        assert row.count(color) > len(row) / 3
    # decisions: a warning and a failure marker in the lane above the plot
    assert _near(image, x(30.1), chart.LANE_Y - 4, chart.WARNING_COLOR)
    assert _near(image, x(40.1), chart.LANE_Y - 4, chart.FAILURE_COLOR)
    # the flagged frame's thumbnail (green) under the plot
    left = x(40) - chart.THUMB_SIZE[0] // 2
    green = image.getpixel((left + 40, chart.THUMB_TOP + 30))
    assert green[1] > 180 and green[0] < 40 and green[2] < 40


def test_chart_of_a_quiet_print_has_none_of_it(tmp_path: Path) -> None:
    quiet = [e for e in _timeline() if e.get("type") == "check" and not e.get("error")]
    for entry in quiet:
        entry["score"] = 10.0
    image = _draw(tmp_path, quiet)
    layout = chart.Layout(T0, T0 + timedelta(minutes=120))
    pause_x = layout.x(T0 + timedelta(minutes=40.5))
    gap_x = layout.x(T0 + timedelta(minutes=35))
    assert _share(image, pause_x, chart.PAUSE_COLOR) == 0
    assert _share(image, gap_x, chart.GAP_COLOR) == 0
    lane = [image.getpixel((px, chart.LANE_Y)) for px in range(chart.LEFT, chart.RIGHT)]
    assert chart.WARNING_COLOR not in lane and chart.FAILURE_COLOR not in lane
    thumbs = image.crop((0, chart.THUMB_TOP, chart.WIDTH, chart.HEIGHT))
    assert thumbs.getcolors() == [(thumbs.width * thumbs.height, chart.BACKGROUND)]
