"""Usage counting: detector calls, tokens and cost, for one print and for today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .verdict import Verdict


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
