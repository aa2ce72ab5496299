"""A verdict and its frame kept on disk (the failure that paused a print) read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.print_sentinel.detection.verdict import (
    MAX_STORED_FRAME,
    FailureKind,
    Frame,
    Verdict,
    stored_frame,
    stored_verdict,
)

AT = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


def test_a_verdict_reads_back_as_it_was() -> None:
    verdict = Verdict(
        failure_score=92.5,
        print_quality=2,
        warning=True,
        pause=True,
        kind=FailureKind.SPAGHETTI,
        reason="Loose strands all over the bed.",
        detector="openai",
        latency_ms=812.0,
    )
    back = stored_verdict(verdict.as_dict())
    assert back is not None
    assert (back.failure_score, back.print_quality, back.kind, back.reason) == (
        92.5,
        2,
        FailureKind.SPAGHETTI,
        "Loose strands all over the bed.",
    )
    assert back.pause and back.warning and back.detector == "openai"


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"failure_score": "high"},
        {"failure_score": True},
        {"failure_score": 400},
    ],
)
def test_what_is_no_verdict_is_none(data: object) -> None:
    assert stored_verdict(data) is None


def test_odd_fields_are_read_safely() -> None:
    back = stored_verdict(
        {"failure_score": 80, "print_quality": 99, "kind": 3, "reason": "x" * 5000}
    )
    assert back is not None
    assert back.print_quality is None
    assert back.kind is FailureKind.OTHER
    assert len(back.reason) == 2000


def test_a_frame_reads_back_as_it_was() -> None:
    frame = Frame(jpeg=JPEG, captured_at=AT, width=640, height=480)
    assert stored_frame(frame.as_stored(), AT) == frame


def test_a_frame_too_big_for_the_file_is_not_kept() -> None:
    big = Frame(
        jpeg=JPEG * (MAX_STORED_FRAME // len(JPEG) + 1),
        captured_at=AT,
        width=1,
        height=1,
    )
    assert big.as_stored() is None
    assert stored_frame(None, AT) is None


@pytest.mark.parametrize(
    "data",
    [
        "not a dict",
        {},
        {"jpeg": 7},
        {"jpeg": "not base64!"},
        {"jpeg": "\ud800"},
        {"jpeg": "aGVsbG8="},  # "hello": no JPEG
        {"jpeg": "A" * (MAX_STORED_FRAME * 2)},
    ],
    ids=repr,
)
def test_what_is_no_jpeg_is_no_frame(data: object) -> None:
    assert stored_frame(data, AT) is None


def test_odd_sizes_are_read_safely() -> None:
    data = Frame(jpeg=JPEG, captured_at=AT, width=1, height=1).as_stored()
    assert data is not None
    back = stored_frame({**data, "width": True, "height": -3}, AT)
    assert back is not None and (back.width, back.height) == (0, 0)
    assert back.jpeg == JPEG
