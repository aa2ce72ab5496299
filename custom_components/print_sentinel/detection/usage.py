"""Usage counting: detector calls, tokens and cost, for one print and for today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import math
from typing import Any

from .verdict import Verdict

MAX_STORED: float = 1e12
"""Counts and costs read back from disk are capped at this (a hand-edited file)."""


def _stored_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return min(max(number, 0.0), MAX_STORED) if math.isfinite(number) else 0.0


@dataclass
class UsageCounter:
    """Detector calls, tokens and cost over some span."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def add(self, verdict: Verdict) -> None:
        """Count one verdict's usage."""
        usage = verdict.usage
        self.calls += usage.calls
        self.tokens += usage.input_tokens + usage.output_tokens
        self.cost_usd += usage.cost_usd

    @classmethod
    def from_stored(cls, data: object) -> UsageCounter:
        """Read back `vars(counter)` data; what is unusable counts as zero."""
        if not isinstance(data, dict):
            return cls()
        return cls(
            calls=int(_stored_number(data.get("calls"))),
            tokens=int(_stored_number(data.get("tokens"))),
            cost_usd=_stored_number(data.get("cost_usd")),
        )


@dataclass
class Usage:
    """What this print and today cost; today starts at zero at local midnight."""

    this_print: UsageCounter
    today: UsageCounter
    day: date | None = None

    @classmethod
    def empty(cls) -> Usage:
        """Return usage with nothing counted yet."""
        return cls(this_print=UsageCounter(), today=UsageCounter())

    def new_print(self) -> None:
        """Start the print's counter at zero."""
        self.this_print = UsageCounter()

    def new_day(self, today: date) -> None:
        """Start today's counter at zero."""
        self.today = UsageCounter()
        self.day = today

    def add(self, verdict: Verdict, today: date) -> None:
        """Count one verdict, in the print and in `today`."""
        if self.day != today:
            self.new_day(today)
        self.this_print.add(verdict)
        self.today.add(verdict)

    def as_stored(self, job: str | None) -> dict[str, Any]:
        """Today's and the print `job`'s usage as JSON data, kept across restarts."""
        return {
            "day": self.day.isoformat() if self.day else None,
            "today": vars(self.today),
            "job": job,
            "print": vars(self.this_print),
        }

    def restore_today(self, data: object, today: date) -> None:
        """Today's usage before a restart or reload, if it was counted today."""
        if isinstance(data, dict) and data.get("day") == today.isoformat():
            self.today = UsageCounter.from_stored(data.get("today"))
            self.day = today

    def restore_print(self, data: object, job: str) -> None:
        """The print's usage before a restart or reload, if it is that print's."""
        if isinstance(data, dict) and data.get("job") == job:
            self.this_print = UsageCounter.from_stored(data.get("print"))
        else:
            self.new_print()
