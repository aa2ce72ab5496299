"""A verdict kept on disk (the failure that paused a print) read back."""

from __future__ import annotations

import pytest

from custom_components.print_sentinel.detection.verdict import (
    FailureKind,
    Verdict,
    stored_verdict,
)


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
