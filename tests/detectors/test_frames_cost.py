"""Frame preparation, the frame buffer, image token rules and cost per print-hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import io
from unittest.mock import patch

from PIL import Image
import pytest

from custom_components.print_sentinel.detection import cost
from custom_components.print_sentinel.detection.cost import (
    COST_TARGET_PER_PRINT_HOUR,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_DETAIL,
    DEFAULT_FRAME_COUNT,
    DEFAULT_FRAME_SIZE,
    DEFAULT_LONG_SIDE,
    DEFAULT_MODEL,
    DEFAULT_OUTPUT_TOKENS,
    cost_per_print_hour,
    estimate_print_hour,
    image_tokens,
    is_priced,
    model_price,
    patch_count,
    request_cost,
    tile_count,
)
from custom_components.print_sentinel.detection.frames import FrameBuffer, prepare_frame
from custom_components.print_sentinel.detection.verdict import Frame
from simulators.scene import Scene, read_scene, render_frame

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _jpeg(width: int, height: int, *, orientation: int | None = None) -> bytes:
    """A JPEG whose left half is red and right half blue, with an EXIF orientation."""
    img = Image.new("RGB", (width, height), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, width // 2, height))
    out = io.BytesIO()
    if orientation is None:
        img.save(out, format="JPEG", quality=95)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(out, format="JPEG", quality=95, exif=exif)
    return out.getvalue()


def _decode(jpeg: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(jpeg))
    img.load()
    return img


# --- prepare_frame ------------------------------------------------------------------


def test_prepare_frame_downscales_to_the_long_side() -> None:
    frame = prepare_frame(_jpeg(1920, 1080), T0)

    assert (frame.width, frame.height) == (768, 432)
    img = _decode(frame.jpeg)
    assert img.format == "JPEG"
    assert img.size == (768, 432)
    assert frame.captured_at == T0


def test_prepare_frame_downscales_portrait_frames_by_their_long_side() -> None:
    frame = prepare_frame(_jpeg(600, 1600), T0, long_side=400)

    assert (frame.width, frame.height) == (150, 400)


def test_prepare_frame_never_upscales() -> None:
    frame = prepare_frame(_jpeg(320, 240), T0, long_side=768)

    assert (frame.width, frame.height) == (320, 240)
    assert _decode(frame.jpeg).size == (320, 240)


def test_prepare_frame_applies_exif_orientation() -> None:
    # Orientation 6: the sensor is rotated; displayed upright, the image turns 90
    # degrees clockwise, so the red left half ends up on top.
    frame = prepare_frame(_jpeg(400, 200, orientation=6), T0)

    assert (frame.width, frame.height) == (200, 400)
    img = _decode(frame.jpeg).convert("RGB")
    top = img.getpixel((100, 50))
    bottom = img.getpixel((100, 350))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert top[0] > 200 > top[2]
    assert bottom[2] > 200 > bottom[0]
    assert not _decode(frame.jpeg).getexif().get(0x0112)


def test_prepare_frame_accepts_other_formats_and_outputs_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (1000, 500), (10, 200, 10, 128)).save(out, format="PNG")

    frame = prepare_frame(out.getvalue(), T0, long_side=500)

    assert frame.jpeg[:2] == b"\xff\xd8"
    assert (frame.width, frame.height) == (500, 250)


def test_prepare_frame_quality_controls_size() -> None:
    source = render_frame(Scene(70, "spaghetti"), 1280, 720)

    small = prepare_frame(source, T0, quality=30)
    large = prepare_frame(source, T0, quality=95)

    assert len(small.jpeg) < len(large.jpeg)


@pytest.mark.parametrize("long_side", [768, 256, 128])
def test_prepared_frames_keep_the_scene(long_side: int) -> None:
    frame = prepare_frame(
        render_frame(Scene(70, "layer_shift"), 1920, 1080), T0, long_side
    )

    assert read_scene(frame.jpeg) == Scene(70, "layer_shift")


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\xff\xd8\xff\xe0garbage", b"\x89PNG\r\n\x1a\nxx"],
)
def test_prepare_frame_rejects_non_images(data: bytes) -> None:
    with pytest.raises(ValueError, match="image"):
        prepare_frame(data, T0)


def test_prepare_frame_rejects_truncated_jpeg() -> None:
    with pytest.raises(ValueError):
        prepare_frame(_jpeg(800, 600)[:200], T0)


@pytest.mark.parametrize(("long_side", "quality"), [(0, 80), (768, 0), (768, 100)])
def test_prepare_frame_rejects_bad_settings(long_side: int, quality: int) -> None:
    with pytest.raises(ValueError):
        prepare_frame(_jpeg(10, 10), T0, long_side=long_side, quality=quality)


# --- FrameBuffer --------------------------------------------------------------------


def _frame(second: int) -> Frame:
    return Frame(
        jpeg=b"x", captured_at=T0 + timedelta(seconds=second), width=1, height=1
    )


def test_frame_buffer_keeps_the_last_frames_oldest_first() -> None:
    buffer = FrameBuffer()
    assert buffer.size == 3
    empty_latest = buffer.latest
    assert empty_latest is None
    assert buffer.frames() == []

    for second in range(5):
        buffer.append(_frame(second))

    assert len(buffer) == 3
    assert [f.captured_at.second for f in buffer.frames()] == [2, 3, 4]
    assert [f.captured_at.second for f in buffer.frames(2)] == [3, 4]
    assert [f.captured_at.second for f in buffer.frames(10)] == [2, 3, 4]
    assert buffer.frames(0) == []
    assert [f.captured_at.second for f in buffer] == [2, 3, 4]
    latest = buffer.latest
    assert latest is not None
    assert latest.captured_at.second == 4

    buffer.clear()
    assert len(buffer) == 0
    assert buffer.latest is None


def test_frame_buffer_size() -> None:
    buffer = FrameBuffer(1)
    buffer.append(_frame(1))
    buffer.append(_frame(2))
    assert [f.captured_at.second for f in buffer.frames()] == [2]
    with pytest.raises(ValueError):
        FrameBuffer(0)


# --- image token rules (OpenAI's worked examples) -----------------------------------


def test_tile_model_examples() -> None:
    # "A 1024 x 1024 square image in detail: high mode costs 765 tokens"
    assert tile_count(1024, 1024) == 4
    assert image_tokens("gpt-4o", "high", 1024, 1024) == 765
    # "A 2048 x 4096 image in detail: high mode costs 1105 tokens"
    assert tile_count(2048, 4096) == 6
    assert image_tokens("gpt-4o", "high", 2048, 4096) == 1105
    # "A 4096 x 8192 image in detail: low most costs 85 tokens"
    assert image_tokens("gpt-4o", "low", 4096, 8192) == 85
    assert image_tokens("gpt-4.1", "low", 4096, 8192) == 85
    # small images are not scaled up: 512x512 is one tile
    assert image_tokens("gpt-4o", "high", 512, 512) == 255
    # auto is estimated as high
    assert image_tokens("gpt-4o", "auto", 1024, 1024) == 765


def test_gpt_4o_mini_tile_costs() -> None:
    assert image_tokens("gpt-4o-mini", "low", 1024, 1024) == 2833
    assert image_tokens("gpt-4o-mini", "high", 1024, 1024) == 2833 + 4 * 5667
    # the trap: the "cheap" model pays twice what gpt-4o pays for an image
    mini = request_cost("gpt-4o-mini", image_tokens("gpt-4o-mini", "low", 64, 64), 0)
    big = request_cost("gpt-4o", image_tokens("gpt-4o", "low", 64, 64), 0)
    assert mini == pytest.approx(2833 * 0.15 / 1e6)
    assert mini == pytest.approx(2 * big, rel=0.01)


def test_patch_model_examples() -> None:
    # "A 1024 x 1024 image is 1024 tokens"
    assert patch_count(1024, 1024) == 1024
    # "A 1800 x 2400 image": 4275 patches, scaled by 0.603 then 0.97 to 1056 x 1408,
    # 33 x 44 = 1452 patches
    assert patch_count(1800, 2400) == 1452
    # the cap: a huge image never exceeds 1536 patches
    assert patch_count(8000, 8000) <= 1536
    assert patch_count(1, 1) == 1
    assert patch_count(33, 32) == 2


def test_patch_model_multipliers_and_detail_independence() -> None:
    assert image_tokens("gpt-4.1-mini", "low", 1024, 1024) == 1659  # 1024 x 1.62
    assert image_tokens("gpt-4.1-nano", "high", 1024, 1024) == 2520  # 1024 x 2.46
    assert image_tokens("o4-mini", "low", 1024, 1024) == 1762  # 1024 x 1.72
    assert (
        image_tokens("gpt-4.1-nano", "low", 256, 144)
        == image_tokens("gpt-4.1-nano", "high", 256, 144)
        == 99
    )  # 8 x 5 patches x 2.46


def test_dated_snapshots_are_priced_as_their_family() -> None:
    nano = model_price("gpt-4.1-nano-2025-04-14")
    assert nano is not None
    assert nano == model_price("gpt-4.1-nano")
    assert model_price("gpt-4o-mini-2024-07-18") == model_price("gpt-4o-mini")
    assert model_price("gpt-4o-mini") != model_price("gpt-4o")
    assert model_price("GPT-4.1") == model_price("gpt-4.1")
    assert model_price("o4-mini-2025-04-16") == model_price("o4-mini")
    assert model_price("gpt-4o-latest") == model_price("gpt-4o")
    assert model_price("openai/gpt-4.1") == model_price("gpt-4.1")
    assert model_price("gpt-4.1-nanox") is None
    assert model_price("gpt-4.1-pro") is None


def test_unknown_models_cost_nothing_and_say_so() -> None:
    assert not is_priced("llava:13b")
    estimate = estimate_print_hour("llava:13b", "low", 3, (768, 432), 20, 300, 40)
    assert estimate.cost_per_print_hour_usd == 0.0
    assert not estimate.priced
    assert "no list price" in estimate.note
    assert estimate.image_tokens_per_check == 3 * 85
    assert is_priced("gpt-4o")
    assert (
        estimate_print_hour("gpt-4o", "low", 1, (64, 64), 60, 0, 0).note == "list price"
    )


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        image_tokens("gpt-4o", "ultra", 10, 10)
    with pytest.raises(ValueError):
        image_tokens("gpt-4o", "low", 0, 10)
    with pytest.raises(ValueError):
        patch_count(10, -1)
    with pytest.raises(ValueError):
        cost_per_print_hour("gpt-4o", "low", 3, (10, 10), 0, 100, 10)
    with pytest.raises(ValueError):
        cost_per_print_hour("gpt-4o", "low", 0, (10, 10), 30, 100, 10)


# --- cost per print-hour ------------------------------------------------------------


def test_request_cost_uses_list_prices() -> None:
    assert request_cost("gpt-4o", 1_000_000, 0) == pytest.approx(2.50)
    assert request_cost("gpt-4o", 0, 1_000_000) == pytest.approx(10.0)
    assert request_cost("gpt-4.1-nano", 1_000_000, 1_000_000) == pytest.approx(0.50)
    assert request_cost("gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.00)
    assert request_cost("gpt-4.1", 1_000_000, 1_000_000) == pytest.approx(10.0)
    assert request_cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)


def test_original_script_costs_about_16_cents_per_print_hour() -> None:
    # 3 full-HD frames to gpt-4o at high detail every 200 s: 1920x1080 is scaled to
    # 1365x768 = 3x2 tiles = 1105 tokens per frame.
    assert image_tokens("gpt-4o", "high", 1920, 1080) == 1105
    estimate = estimate_print_hour("gpt-4o", "high", 3, (1920, 1080), 200, 200, 30)

    assert estimate.checks_per_hour == 18
    assert estimate.image_tokens_per_check == 3315
    assert estimate.cost_per_print_hour_usd == pytest.approx(0.16, abs=0.005)


def test_cost_per_print_hour_arithmetic() -> None:
    # gpt-4o low: (3 x 85 + 100) input, 50 output, 60 checks an hour
    expected = 60 * ((3 * 85 + 100) * 2.50 + 50 * 10.0) / 1e6
    assert cost_per_print_hour(
        "gpt-4o", "low", 3, (768, 432), 60, 100, 50
    ) == pytest.approx(expected)


def test_default_settings_meet_the_cost_target() -> None:
    """<= $0.01 per print-hour, checking at least every 30 s, several frames."""
    prompt_tokens = 300  # above what the detector sends (see test_openai_compat)
    assert DEFAULT_CHECK_INTERVAL <= 30
    assert DEFAULT_FRAME_COUNT >= 2
    assert DEFAULT_FRAME_SIZE == (DEFAULT_LONG_SIDE, DEFAULT_LONG_SIDE * 9 // 16)
    for frame_size in (DEFAULT_FRAME_SIZE, (256, 192)):  # 16:9 and 4:3 cameras
        estimate = estimate_print_hour(
            DEFAULT_MODEL,
            DEFAULT_DETAIL,
            DEFAULT_FRAME_COUNT,
            frame_size,
            DEFAULT_CHECK_INTERVAL,
            prompt_tokens,
            DEFAULT_OUTPUT_TOKENS,
        )
        assert estimate.priced
        assert estimate.checks_per_hour >= 120
        assert estimate.cost_per_print_hour_usd <= COST_TARGET_PER_PRINT_HOUR


def test_the_placeholder_settings_would_miss_the_target() -> None:
    """Why the defaults changed: 3 frames of 768 px every 20 s cost ~5x the target."""
    placeholder = cost.cost_per_print_hour(
        "gpt-4.1-nano", "low", 3, (768, 432), 20, 300, 40
    )
    assert placeholder > 5 * COST_TARGET_PER_PRINT_HOUR


def _huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of `width` x `height` (all black), built in ~100 KB."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_prepare_frame_refuses_a_huge_image_before_decoding_it() -> None:
    """A 12000x12000 PNG thumbnail once cost 826 MiB: refused from its header."""
    png = _huge_png(12000, 12000)
    assert len(png) < 1024 * 1024

    with (
        patch.object(Image.Image, "load", side_effect=AssertionError("decoded")),
        pytest.raises(ValueError, match="12000x12000 pixels is larger than"),
    ):
        prepare_frame(png, datetime.now(UTC))


def test_prepare_frame_still_takes_a_4k_frame() -> None:
    frame = prepare_frame(render_frame(Scene(0, "none"), 3840, 2160), datetime.now(UTC))

    assert (frame.width, frame.height) == (768, 432)


def test_prepare_frame_refuses_more_bytes_than_a_snapshot() -> None:
    with pytest.raises(ValueError, match="larger than 20 MiB"):
        prepare_frame(b"\xff\xd8" + b"\x00" * (20 * 1024 * 1024), datetime.now(UTC))
