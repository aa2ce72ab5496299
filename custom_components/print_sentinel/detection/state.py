"""What the monitor keeps: settings, what the entities show, the print and its run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .actions import DetectionEvent
from .policy import Decision
from .timeline import Timeline
from .usage import Usage, UsageCounter
from .verdict import Frame, Verdict


@dataclass(kw_only=True)
class DetectionSettings:
    """What the options say about detection."""

    camera_entity_id: str
    check_interval: float
    frame_count: int
    failure_action: str
    warning_action: str


@dataclass(kw_only=True)
class MonitorState:
    """What the detection entities show."""

    enabled: bool = True
    """Turned off by the user for the current print (the switch)."""
    decision: Decision = Decision.OK
    last_verdict: Verdict | None = None
    last_check: datetime | None = None
    last_error: str | None = None
    last_frame: Frame | None = None
    flagged_frame: Frame | None = None
    last_event: DetectionEvent | None = None
    usage: Usage = field(default_factory=Usage.empty)

    @property
    def usage_print(self) -> UsageCounter:
        """Usage of the current print."""
        return self.usage.this_print

    @property
    def usage_today(self) -> UsageCounter:
        """Usage since local midnight."""
        return self.usage.today


@dataclass(frozen=True, kw_only=True)
class PrintRun:
    """What was decided and done since the print started, was resumed or reset."""

    generation: int
    """A verdict from a check that began in another generation is dropped: what it
    saw is not the print any more (also bumped by the switch)."""
    acted: bool = False
    """The failure action ran (or is running, or was tried `ACTION_ATTEMPTS` times)."""
    attempts: int = 0
    """Times the failure action was tried and the printer did not do it."""
    warned: bool = False
    """The warning was given (again possible after an ok decision)."""
    own_pause: bool = False
    """The print is paused because Print Sentinel paused it."""


@dataclass(kw_only=True)
class PrintRecord:
    """One print, from its start to its end (across resumes)."""

    job_id: object = None
    timeline: Timeline = field(default_factory=Timeline)
    paused_by_us: bool = False
    """Print Sentinel paused it at least once: not a print to learn from."""
