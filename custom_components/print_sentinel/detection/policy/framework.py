"""The shared mechanics of every decision policy.

Everything here is pure: no Home Assistant, no I/O, no clock. Time comes in as a
float of seconds (any monotonic origin), state is immutable, and every step returns
a new state with its decision. The monitor keeps the state; the benchmarks replay
scripted prints through the same code.

Shared behaviour (all policies):

- A check that produced no verdict (an error, a rate limit, an unclear answer) is
  passed as `NoVerdict`. The decision can only stay or drop (never rise); a policy
  may let its evidence fade on it, never grow.
- Once `failure` is decided it latches for the print, so the action fires once,
  until `on_new_print`, `on_resume` or `on_false_alarm`.
- `on_new_print(now, previous=None, baseline=None)` starts from a clean state.
  `previous` (the last print's state) only passes on printer-level memory (Obico's
  long mean); `baseline` is what this printer's camera normally scores, learned
  across prints with `learn` and kept by the monitor.
- `on_resume(state, now, own_pause=...)` (the user resumed a paused print) starts a
  grace period (`resume_grace` seconds) during which verdicts are ignored and
  nothing escalates. Every policy gets the same grace, so the benchmarks compare
  rules with rules. Re-pausing right after a resume is the most common complaint
  about Obico-style detectors.
- Time never runs backwards: a `now` older than one already seen is taken as equal
  to it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields, replace
from enum import Enum, StrEnum
import math
from typing import Final, Protocol

from ..verdict import Verdict

SENSITIVITIES: Final = ("low", "medium", "high")
MAX_PRINT_AGE: Final = 30 * 86400.0
"""The oldest a print found running can be (seconds); printers report up to weeks."""


class Decision(StrEnum):
    """What the policy concludes after a check."""

    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"

    @property
    def level(self) -> int:
        """Severity as a number (ok 0, warning 1, failure 2), for comparisons."""
        return _LEVELS[self]


_LEVELS: Final = {Decision.OK: 0, Decision.WARNING: 1, Decision.FAILURE: 2}


def lower(first: Decision, second: Decision) -> Decision:
    """Return the less severe of two decisions."""
    return first if first.level <= second.level else second


@dataclass(frozen=True, slots=True)
class NoVerdict:
    """A check that gave no usable verdict: the detector errored or was unclear."""

    reason: str = "error"

    @classmethod
    def from_error(cls, err: BaseException) -> NoVerdict:
        """Describe a failed detector call (e.g. a `DetectorError` subclass)."""
        return cls(reason=type(err).__name__)


NO_VERDICT: Final = NoVerdict()
"""A ready-made `NoVerdict` for callers that have no reason to record."""

type Observation = Verdict | NoVerdict
"""What one check yields: a verdict, or the marker that it gave none."""


def bounded(value: object, high: float, default: float = 0.0) -> float:
    """Return `value` as a finite float in [0, high]; `default` if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    number = float(value)
    if not math.isfinite(number):
        return default
    return min(max(number, 0.0), high)


@dataclass(frozen=True, kw_only=True)
class PrinterBaseline:
    """What one printer's camera normally scores on good prints, kept across prints.

    The monitor persists it (`as_dict` / `from_dict`, HA's `Store`) per printer and
    passes it to `Policy.on_new_print`; `Policy.learn` folds a print that ended well
    in. `from_dict` accepts anything (stored data is input too): unknown keys are
    dropped, numbers are bounded and finite, and anything unusable reads as the
    empty baseline.
    """

    prints: int = 0
    """Good prints learned from."""
    mean: float = 0.0
    """Mean evidence (0-100) on those prints."""
    high_rate: float = 0.0
    """Fraction (0-1) of verdicts on good prints that were bad frames."""
    elevated_rate: float = 0.0
    """Fraction (0-1) of verdicts on good prints that were at least moderate."""
    false_alarms: int = 0
    """Decisions the user overruled (a resumed own pause, a false alarm) so far."""

    def as_dict(self) -> dict[str, object]:
        """Return JSON-friendly data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> PrinterBaseline:
        """Parse stored data; anything unusable gives the empty baseline."""
        if not isinstance(data, dict):
            return cls()
        return cls(
            prints=int(bounded(data.get("prints"), 1_000_000)),
            mean=bounded(data.get("mean"), 100.0),
            high_rate=bounded(data.get("high_rate"), 1.0),
            elevated_rate=bounded(data.get("elevated_rate"), 1.0),
            false_alarms=int(bounded(data.get("false_alarms"), 1_000_000)),
        )


def _plain(value: object) -> object:
    """Convert a state value to JSON-friendly data."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, PrinterBaseline):
        return value.as_dict()
    return value


@dataclass(frozen=True, kw_only=True)
class PolicyCore:
    """The policy-specific part of a state (each policy subclasses it)."""

    def as_dict(self) -> dict[str, object]:
        """Return the fields as JSON-friendly data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, kw_only=True)
class PolicyState:
    """Everything a policy remembers about the current print."""

    policy: str
    core: PolicyCore
    decision: Decision = Decision.OK
    """The decision returned by the last step."""
    print_started_at: float | None = None
    """When the print began, if known (drives the start-of-print quiet period)."""
    grace_until: float | None = None
    """Verdicts are ignored until this time (after a resume)."""
    last_seen: float | None = None
    """The newest time seen; earlier times are clamped to it."""
    last_verdict_at: float | None = None
    """When the last verdict that counted arrived."""
    failed_at: float | None = None
    """When `failure` latched."""
    checks: int = 0
    errors: int = 0
    ignored: int = 0
    """Verdicts ignored during a quiet period or resume grace."""
    resumes: int = 0
    false_alarms: int = 0
    """Decisions the user marked as false alarms during this print."""
    own_pause_resumes: int = 0
    """Resumes of a pause that Print Sentinel made (the user overruled it)."""
    baseline: PrinterBaseline | None = None
    """The printer's baseline this print started with."""

    @property
    def latched(self) -> bool:
        """Whether `failure` has been decided for this print."""
        return self.decision is Decision.FAILURE


def policy_state_as_dict(state: PolicyState) -> dict[str, object]:
    """Return a state as JSON-friendly data (diagnostics, attributes, events)."""
    data: dict[str, object] = {
        f.name: _plain(getattr(state, f.name))
        for f in fields(state)
        if f.name != "core"
    }
    data["latched"] = state.latched
    data["core"] = state.core.as_dict()
    return data


MAX_OVERRULINGS: Final = 1000
"""Overrulings read back from disk are capped at this (a hand-edited file)."""


def start_of(now: float, age: float | None) -> float | None:
    """When a print `age` seconds old at `now` started; None for an unknown age."""
    if age is None:
        return None
    return now - bounded(age, MAX_PRINT_AGE)


class Policy(Protocol):
    """A decision policy: pure functions over immutable states."""

    @property
    def name(self) -> str:
        """Stable id (one of `POLICIES`)."""

    @property
    def sensitivity(self) -> str:
        """low, medium or high."""

    @property
    def resume_grace(self) -> float:
        """Seconds after a resume during which nothing escalates."""

    def initial_state(self) -> PolicyState:
        """Return a clean state for a print whose start time is unknown."""

    def on_new_print(
        self,
        now: float,
        previous: PolicyState | None = None,
        baseline: PrinterBaseline | None = None,
        *,
        age: float | None = 0.0,
    ) -> PolicyState:
        """Return a clean state for a print first seen at `now`.

        `previous` (the state of the printer's last print, if any) lets a policy
        keep printer-level memory across prints; only `obico` uses it. `baseline`
        is what this printer's camera normally scores (`learn`), kept by the monitor.
        `age` is how long the print has already run (seconds; a print found running
        after a restart); None: long enough that its start is past (no quiet period).
        """

    def on_resume(
        self, state: PolicyState, now: float, *, own_pause: bool = False
    ) -> PolicyState:
        """Return the state after the user resumed the print at `now`.

        `own_pause` is true when the pause being resumed was Print Sentinel's own:
        the user is saying "that was not a failure".
        """

    def on_false_alarm(self, state: PolicyState, now: float) -> PolicyState:
        """Return the state after the user marked the last warning/failure false."""

    def overrulings(self, state: PolicyState) -> dict[str, object]:
        """What the user's word on this print taught it, as JSON data.

        False alarms and resumes of our pause: kept on disk, so that a restart or
        a reload in the middle of the print does not forget them.
        """

    def with_overrulings(self, state: PolicyState, data: object) -> PolicyState:
        """Return `state` (a new one for the same print) with `overrulings` back.

        Anything unusable is ignored.
        """

    def learn(
        self, baseline: PrinterBaseline | None, state: PolicyState
    ) -> PrinterBaseline:
        """Fold a print that ended well (`state`, its last state) into `baseline`."""

    def step(
        self, state: PolicyState, observation: Observation, now: float
    ) -> tuple[PolicyState, Decision]:
        """Take one check's outcome at `now`; return the new state and decision."""


class BasePolicy[C: PolicyCore](ABC):
    """The shared mechanics: time, errors, latching, quiet period, resume grace."""

    name: str = ""
    quiet_period: float = 0.0
    """Seconds after a known print start during which verdicts are ignored."""

    def __init__(self, *, sensitivity: str, resume_grace: float) -> None:
        """Initialise with a sensitivity and the resume grace period (seconds)."""
        if sensitivity not in SENSITIVITIES:
            raise ValueError(f"unknown sensitivity {sensitivity!r}")
        if resume_grace < 0 or not math.isfinite(resume_grace):
            raise ValueError(f"invalid resume grace {resume_grace!r}")
        self.sensitivity = sensitivity
        self.resume_grace = float(resume_grace)

    def __repr__(self) -> str:
        """Describe the policy and its settings."""
        return (
            f"{type(self).__name__}(sensitivity={self.sensitivity!r}, "
            f"resume_grace={self.resume_grace})"
        )

    # --- what each policy provides ----------------------------------------------

    @property
    @abstractmethod
    def _core_type(self) -> type[C]:
        """The core class this policy keeps in its states."""

    @abstractmethod
    def _initial_core(self) -> C:
        """Return the core of a clean state."""

    @abstractmethod
    def _observe(self, core: C, verdict: Verdict, now: float, dt: float | None) -> C:
        """Fold one verdict into the core; `dt` is seconds since the last verdict."""

    @abstractmethod
    def _decide(self, core: C, previous: Decision, now: float) -> Decision:
        """Decide from the core after a verdict (`previous` allows hysteresis)."""

    def _observe_nothing(self, core: C, now: float) -> C:
        """Fold a check without a verdict into the core (it may only fade)."""
        return core

    def _decide_without_verdict(
        self, core: C, previous: Decision, now: float, since_verdict: float | None
    ) -> Decision:
        """Decide after a check gave no verdict (the result is capped at `previous`)."""
        return previous

    def _carry(self, core: C) -> C:
        """Return a clean core that keeps printer-level memory from `core`."""
        return self._initial_core()

    def _start(self, previous: C | None, baseline: PrinterBaseline | None) -> C:
        """Return the core of a new print (printer memory from `previous`)."""
        return self._initial_core() if previous is None else self._carry(previous)

    def _resumed(self, core: C, now: float, *, overruled: bool) -> C:
        """Return the core after a resume; `overruled`: the user said "not a failure"."""
        return self._carry(core)

    # --- the contract ------------------------------------------------------------

    def _core(self, state: PolicyState) -> C:
        core = state.core
        if state.policy != self.name or not isinstance(core, self._core_type):
            raise TypeError(f"state of policy {state.policy!r} given to {self.name!r}")
        return core

    def initial_state(self) -> PolicyState:
        """Return a clean state for a print whose start time is unknown."""
        return PolicyState(policy=self.name, core=self._start(None, None))

    def on_new_print(
        self,
        now: float,
        previous: PolicyState | None = None,
        baseline: PrinterBaseline | None = None,
        *,
        age: float | None = 0.0,
    ) -> PolicyState:
        """Return a clean state for a print first seen at `now`, `age` seconds old.

        `previous`, the state of the printer's last print, passes on printer-level
        memory; a state of another policy is ignored. `age` None: a print whose
        start is long past (found running, its age unknown).
        """
        carried: C | None = None
        if (
            previous is not None
            and previous.policy == self.name
            and isinstance(previous.core, self._core_type)
        ):
            carried = previous.core
        return PolicyState(
            policy=self.name,
            core=self._start(carried, baseline),
            print_started_at=start_of(now, age),
            last_seen=now,
            baseline=baseline,
        )

    def _restart(
        self, state: PolicyState, now: float, *, overruled: bool
    ) -> PolicyState:
        core = self._core(state)
        now = self._clamp(state, now)
        return replace(
            state,
            core=self._resumed(core, now, overruled=overruled),
            decision=Decision.OK,
            grace_until=now + self.resume_grace if self.resume_grace else None,
            last_seen=now,
            last_verdict_at=None,
            failed_at=None,
        )

    def on_resume(
        self, state: PolicyState, now: float, *, own_pause: bool = False
    ) -> PolicyState:
        """Unlatch, forget the evidence, and ignore verdicts for the grace period.

        `own_pause`: the pause being resumed was this policy's; policies that learn
        from it (the default) raise their bar for the rest of the print.
        """
        state = self._restart(state, now, overruled=own_pause)
        return replace(
            state,
            resumes=state.resumes + 1,
            own_pause_resumes=state.own_pause_resumes + int(own_pause),
        )

    def on_false_alarm(self, state: PolicyState, now: float) -> PolicyState:
        """Unlatch, like a resume of the policy's own pause: the user overruled it."""
        state = self._restart(state, now, overruled=True)
        return replace(state, false_alarms=state.false_alarms + 1)

    def overrulings(self, state: PolicyState) -> dict[str, object]:
        """The counts of the user's overrulings, and what the core keeps of them."""
        return {
            "policy": self.name,
            "false_alarms": state.false_alarms,
            "own_pause_resumes": state.own_pause_resumes,
            "core": self._core_overrulings(self._core(state)),
        }

    def with_overrulings(self, state: PolicyState, data: object) -> PolicyState:
        """Read `overrulings` back into a new print's state (same policy only)."""
        if not isinstance(data, dict) or data.get("policy") != self.name:
            return state
        return replace(
            state,
            core=self._core_with_overrulings(self._core(state), data.get("core")),
            false_alarms=int(bounded(data.get("false_alarms"), MAX_OVERRULINGS)),
            own_pause_resumes=int(
                bounded(data.get("own_pause_resumes"), MAX_OVERRULINGS)
            ),
        )

    def _core_overrulings(self, core: C) -> dict[str, object]:
        """What the core learnt from being overruled (none by default)."""
        return {}

    def _core_with_overrulings(self, core: C, data: object) -> C:
        """The core with `_core_overrulings` data read back (robustly)."""
        return core

    def learn(
        self, baseline: PrinterBaseline | None, state: PolicyState
    ) -> PrinterBaseline:
        """Count the print and the user's overrulings; the anchors learn no more."""
        baseline = baseline or PrinterBaseline()
        return replace(
            baseline,
            prints=baseline.prints + 1,
            false_alarms=baseline.false_alarms
            + state.false_alarms
            + state.own_pause_resumes,
        )

    @staticmethod
    def _clamp(state: PolicyState, now: float) -> float:
        if state.last_seen is not None and now < state.last_seen:
            return state.last_seen
        return now

    def _quiet(self, state: PolicyState, now: float) -> bool:
        return (
            state.print_started_at is not None
            and self.quiet_period > 0
            and now < state.print_started_at + self.quiet_period
        )

    def step(
        self, state: PolicyState, observation: Observation, now: float
    ) -> tuple[PolicyState, Decision]:
        """Take one check's outcome at `now`; return the new state and decision."""
        core = self._core(state)
        if state.last_seen is not None and now < state.last_seen:
            now = state.last_seen
        grace_until = state.grace_until
        if grace_until is not None and now >= grace_until:
            grace_until = None
        latched = state.decision is Decision.FAILURE

        if isinstance(observation, NoVerdict):
            if latched:
                decision = Decision.FAILURE
            elif grace_until is not None:
                decision = Decision.OK
            else:
                core = self._observe_nothing(core, now)
                since = (
                    None
                    if state.last_verdict_at is None
                    else now - state.last_verdict_at
                )
                decision = lower(
                    state.decision,
                    self._decide_without_verdict(core, state.decision, now, since),
                )
            new = replace(
                state,
                core=core,
                decision=decision,
                grace_until=grace_until,
                last_seen=now,
                checks=state.checks + 1,
                errors=state.errors + 1,
            )
            return new, decision

        if latched:
            new = replace(
                state, grace_until=grace_until, last_seen=now, checks=state.checks + 1
            )
            return new, Decision.FAILURE
        if grace_until is not None or self._quiet(state, now):
            new = replace(
                state,
                decision=Decision.OK,
                grace_until=grace_until,
                last_seen=now,
                checks=state.checks + 1,
                ignored=state.ignored + 1,
            )
            return new, Decision.OK

        dt = None if state.last_verdict_at is None else now - state.last_verdict_at
        core = self._observe(core, observation, now, dt)
        decision = self._decide(core, state.decision, now)
        new = replace(
            state,
            core=core,
            decision=decision,
            grace_until=grace_until,
            last_seen=now,
            last_verdict_at=now,
            checks=state.checks + 1,
            failed_at=now if decision is Decision.FAILURE else None,
        )
        return new, decision


def score_of(verdict: Verdict) -> float:
    """Return the verdict's failure score clamped to 0-100 (NaN counts as 0)."""
    score = verdict.failure_score
    if math.isnan(score):
        return 0.0
    return min(100.0, max(0.0, score))
