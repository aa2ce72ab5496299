"""The verdict timeline of a print, for diagnostics a user can share.

Bounded: the newest `MAX_ENTRIES` checks of the print, each with the time, the
score, the kind, the reason (cut), an error, the decision, the action taken and the
user's false-alarm mark. A false alarm also keeps the verdicts that led to the
decision (`MAX_AROUND` of them) so they survive the bound.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .actions import cut
from .verdict import Verdict

MAX_ENTRIES = 500
MAX_AROUND = 20
"""Entries kept with a false alarm: the decision, those before and after it."""
MAX_REASON = 200


@dataclass(kw_only=True)
class TimelineEntry:
    """One check, or one mark, in a print's timeline."""

    at: datetime
    score: float | None = None
    kind: str | None = None
    reason: str | None = None
    error: str | None = None
    decision: str | None = None
    action: str | None = None
    false_alarm: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-friendly data."""
        return {
            "at": self.at.isoformat(),
            "score": None if self.score is None else round(self.score, 1),
            "kind": self.kind,
            "reason": self.reason,
            "error": self.error,
            "decision": self.decision,
            "action": self.action,
            "false_alarm": self.false_alarm,
        }


@dataclass
class Timeline:
    """The checks of one print, newest last, bounded."""

    entries: deque[TimelineEntry] = field(
        default_factory=lambda: deque(maxlen=MAX_ENTRIES)
    )

    def verdict(self, at: datetime, verdict: Verdict, decision: str | None) -> None:
        """Record a check that gave a verdict."""
        self.entries.append(
            TimelineEntry(
                at=at,
                score=verdict.failure_score,
                kind=verdict.kind.value,
                reason=cut(verdict.reason, MAX_REASON),
                decision=decision,
            )
        )

    def error(self, at: datetime, error: str, decision: str | None) -> None:
        """Record a check that gave no verdict."""
        self.entries.append(
            TimelineEntry(at=at, error=cut(error, MAX_REASON), decision=decision)
        )

    def action(self, action: str) -> None:
        """Note what was done on the newest entry."""
        if self.entries:
            self.entries[-1].action = action

    def false_alarm(self, at: datetime, decision: str) -> list[dict[str, Any]]:
        """Mark a false alarm; return the verdicts around the decision it overrules.

        The decision is the newest entry an action was taken on; without one, the
        newest entries.
        """
        entries = list(self.entries)
        at_decision = next(
            (
                index
                for index in range(len(entries) - 1, -1, -1)
                if entries[index].action is not None and not entries[index].false_alarm
            ),
            len(entries) - 1,
        )
        start = max(0, min(at_decision - MAX_AROUND // 2, len(entries) - MAX_AROUND))
        around = [entry.as_dict() for entry in entries[start : start + MAX_AROUND]]
        self.entries.append(
            TimelineEntry(
                at=at, decision=decision, action="false_alarm", false_alarm=True
            )
        )
        return around

    def as_list(self) -> list[dict[str, Any]]:
        """Return the entries as JSON-friendly data, oldest first."""
        return [entry.as_dict() for entry in self.entries]
