"""Check timing: when the next scheduled check runs, and one timer for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .policy import Decision
from .verdict import Verdict

MIN_CHECK_INTERVAL = 10.0
SUSPECT_SCORE = 40.0
"""A verdict at or above this score makes the next check come sooner."""


def next_check_delay(interval: float, decision: Decision, verdict: Verdict) -> float:
    """Seconds until the check after one that gave `verdict` and `decision`.

    Sooner (half the interval) while a failure is suspected; never sooner than the
    detector asked (`next_check_after`, e.g. a service's own pacing).
    """
    delay = interval
    if decision is Decision.WARNING or verdict.failure_score >= SUSPECT_SCORE:
        delay = max(MIN_CHECK_INTERVAL, interval / 2)
    if verdict.next_check_after:
        delay = max(delay, verdict.next_check_after)
    return delay


class CheckScheduler:
    """One pending check at a time; `due` runs when it is time."""

    def __init__(self, hass: HomeAssistant, due: Callable[[], None]) -> None:
        """Initialise; nothing is scheduled yet."""
        self._hass = hass
        self._due = due
        self._unsub: CALLBACK_TYPE | None = None
        self.running = False
        """A check is under way (set by the monitor around it)."""

    @property
    def pending(self) -> bool:
        """Whether a check is scheduled."""
        return self._unsub is not None

    @property
    def idle(self) -> bool:
        """Neither scheduled nor running."""
        return self._unsub is None and not self.running

    @callback
    def schedule(self, delay: float) -> None:
        """Run the check in `delay` seconds (at least `MIN_CHECK_INTERVAL`)."""
        self.cancel()
        self._unsub = async_call_later(
            self._hass, max(delay, MIN_CHECK_INTERVAL), self._fire
        )

    @callback
    def cancel(self) -> None:
        """Drop the scheduled check, if any."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _fire(self, _now: datetime) -> None:
        self._unsub = None
        self._due()
