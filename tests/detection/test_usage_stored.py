"""Detector usage kept on disk (today's, the running print's) read back."""

from __future__ import annotations

from datetime import date
import json

import pytest

from custom_components.print_sentinel.detection.usage import (
    MAX_STORED,
    Usage,
    UsageCounter,
)

TODAY = date(2026, 12, 8)


def _usage() -> Usage:
    usage = Usage.empty()
    usage.day = TODAY
    usage.today = UsageCounter(calls=12, tokens=3400, cost_usd=0.0123)
    usage.this_print = UsageCounter(calls=5, tokens=1400, cost_usd=0.005)
    return usage


def test_usage_reads_back_as_it_was() -> None:
    stored = json.loads(json.dumps(_usage().as_stored("7")))
    back = Usage.empty()
    back.restore_today(stored, TODAY)
    back.restore_print(stored, "7")
    assert (back.today, back.this_print, back.day) == (
        _usage().today,
        _usage().this_print,
        TODAY,
    )


def test_another_day_or_print_starts_at_zero() -> None:
    stored = _usage().as_stored("7")
    back = Usage.empty()
    back.restore_today(stored, date(2026, 12, 9))
    back.restore_print(stored, "8")
    assert back.today == UsageCounter() and back.this_print == UsageCounter()


@pytest.mark.parametrize(
    "counter",
    [
        None,
        "x",
        {"calls": "many", "tokens": True, "cost_usd": float("nan")},
        {"calls": -5, "tokens": 1e300, "cost_usd": -1},
    ],
)
def test_odd_counts_are_read_safely(counter: object) -> None:
    back = Usage.empty()
    back.restore_today({"day": TODAY.isoformat(), "today": counter}, TODAY)
    assert back.today.calls == 0
    assert 0 <= back.today.tokens <= MAX_STORED
    assert back.today.cost_usd == 0.0
