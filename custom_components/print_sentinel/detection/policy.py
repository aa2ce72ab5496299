"""Turn a stream of detector verdicts into ok / warning / failure decisions.

Everything here is pure: no Home Assistant, no I/O, no clock. Time comes in as a
float of seconds (any monotonic origin), state is immutable, and every step returns
a new state with its decision. The monitor keeps the state; the benchmarks replay
scripted prints through the same code.

Shared behaviour (all policies):

- A check that produced no verdict (an error, a rate limit, an unclear answer) is
  passed as `NoVerdict`. It never moves the state toward failure: the evidence is
  held, and the decision can only stay or drop (never rise).
- Once `failure` is decided it latches for the print, so the action fires once,
  until `on_new_print` or `on_resume`.
- `on_new_print(now, previous=None)` starts from a clean state (`previous`, the
  last print's state, only passes on printer-level memory: Obico's long mean).
- `on_resume(state, now)` (the user resumed a paused print) starts a grace period
  (`resume_grace` seconds) during which verdicts are ignored and nothing escalates;
  after it the policy carries on from a clean state. Re-pausing right after a resume
  is the most common complaint about Obico-style detectors.
- Time never runs backwards: a `now` older than one already seen is taken as equal
  to it.

Policies (`POLICIES`): the default `sentinel`, and four anchors that replay
published rules so the benchmarks can compare: `two_yes`, `printwatch`, `gadget`
and `obico`.

Use::

    policy = make_policy("sentinel", sensitivity="medium", resume_grace=300)
    state = policy.on_new_print(now)
    state, decision = policy.step(state, verdict, now)  # or NoVerdict.from_error(err)
    state = policy.on_resume(state, now)  # the user resumed a paused print
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields, replace
from enum import Enum, StrEnum
import math
from typing import Final, Protocol

from ..const import DEFAULT_POLICY, DEFAULT_RESUME_GRACE, DEFAULT_SENSITIVITY
from .verdict import FailureKind, Verdict


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


def _lower(first: Decision, second: Decision) -> Decision:
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


@dataclass(frozen=True, kw_only=True)
class PrinterBaseline:
    """What one printer's camera normally scores on good prints, kept across prints.

    The monitor persists it (`as_dict` / `from_dict`, HA's `Store`) per printer and
    passes it to `Policy.on_new_print`; `Policy.learn` folds a finished print in.
    `from_dict` accepts anything (stored data is input too): unknown keys are
    dropped and numbers are bounded and finite.
    """

    prints: int = 0
    """Good prints learned from."""
    mean: float = 0.0
    """Mean evidence (0-100) on those prints."""
    high_rate: float = 0.0
    """Fraction (0-1) of verdicts on good prints that were bad frames."""

    def as_dict(self) -> dict[str, object]:
        """Return JSON-friendly data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object) -> PrinterBaseline:
        """Parse stored data; anything unusable gives the empty baseline."""
        if not isinstance(data, dict):
            return cls()

        def number(key: str, high: float) -> float:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return 0.0
            value = float(value)
            return min(max(value, 0.0), high) if math.isfinite(value) else 0.0

        return cls(
            prints=int(number("prints", 1_000_000)),
            mean=number("mean", 100.0),
            high_rate=number("high_rate", 1.0),
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
    ) -> PolicyState:
        """Return a clean state for a print that starts at `now`.

        `previous` (the state of the printer's last print, if any) lets a policy
        keep printer-level memory across prints; only `obico` uses it. `baseline`
        is what this printer's camera normally scores (`learn`), kept by the monitor.
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

    def learn(
        self, baseline: PrinterBaseline | None, state: PolicyState
    ) -> PrinterBaseline:
        """Fold a print that ended well (`state`, its last state) into `baseline`."""

    def step(
        self, state: PolicyState, observation: Observation, now: float
    ) -> tuple[PolicyState, Decision]:
        """Take one check's outcome at `now`; return the new state and decision."""


class _BasePolicy[C: PolicyCore](ABC):
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

    def _decide_without_verdict(
        self, core: C, previous: Decision, now: float, since_verdict: float | None
    ) -> Decision:
        """Decide after a check gave no verdict (the result is capped at `previous`)."""
        return previous

    def _carry(self, core: C) -> C:
        """Return a clean core that keeps printer-level memory from `core`."""
        return self._initial_core()

    def _core(self, state: PolicyState) -> C:
        core = state.core
        if state.policy != self.name or not isinstance(core, self._core_type):
            raise TypeError(f"state of policy {state.policy!r} given to {self.name!r}")
        return core

    def initial_state(self) -> PolicyState:
        """Return a clean state for a print whose start time is unknown."""
        return PolicyState(policy=self.name, core=self._initial_core())

    def on_new_print(
        self,
        now: float,
        previous: PolicyState | None = None,
        baseline: PrinterBaseline | None = None,
    ) -> PolicyState:
        """Return a clean state for a print that starts at `now`.

        `previous`, the state of the printer's last print, passes on printer-level
        memory; a state of another policy is ignored. The anchors ignore `baseline`.
        """
        core = self._initial_core()
        if (
            previous is not None
            and previous.policy == self.name
            and isinstance(previous.core, self._core_type)
        ):
            core = self._carry(previous.core)
        return PolicyState(
            policy=self.name,
            core=core,
            print_started_at=now,
            last_seen=now,
            baseline=baseline,
        )

    def on_resume(
        self, state: PolicyState, now: float, *, own_pause: bool = False
    ) -> PolicyState:
        """Unlatch, forget the evidence, and ignore verdicts for the grace period."""
        core = self._core(state)
        now = self._clamp(state, now)
        return replace(
            state,
            core=self._carry(core),
            decision=Decision.OK,
            grace_until=now + self.resume_grace if self.resume_grace else None,
            last_seen=now,
            last_verdict_at=None,
            failed_at=None,
            resumes=state.resumes + 1,
            own_pause_resumes=state.own_pause_resumes + int(own_pause),
        )

    def on_false_alarm(self, state: PolicyState, now: float) -> PolicyState:
        """Treat the user's "false alarm" like a resume of the policy's own pause."""
        state = self.on_resume(state, now, own_pause=False)
        return replace(state, false_alarms=state.false_alarms + 1)

    def learn(
        self, baseline: PrinterBaseline | None, state: PolicyState
    ) -> PrinterBaseline:
        """Count the print; the anchors keep no baseline beyond that."""
        baseline = baseline or PrinterBaseline()
        return replace(baseline, prints=baseline.prints + 1)

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
        now = self._clamp(state, now)
        state = replace(state, last_seen=now, checks=state.checks + 1)
        if state.grace_until is not None and now >= state.grace_until:
            state = replace(state, grace_until=None)
        in_grace = state.grace_until is not None

        if isinstance(observation, NoVerdict):
            state = replace(state, errors=state.errors + 1)
            if state.latched:
                return state, Decision.FAILURE
            if in_grace:
                decision = Decision.OK
            else:
                since = (
                    None
                    if state.last_verdict_at is None
                    else now - state.last_verdict_at
                )
                decision = _lower(
                    state.decision,
                    self._decide_without_verdict(core, state.decision, now, since),
                )
            return replace(state, decision=decision), decision

        if state.latched:
            return state, Decision.FAILURE
        if in_grace or self._quiet(state, now):
            state = replace(state, ignored=state.ignored + 1, decision=Decision.OK)
            return state, Decision.OK

        dt = None if state.last_verdict_at is None else now - state.last_verdict_at
        core = self._observe(core, observation, now, dt)
        decision = self._decide(core, state.decision, now)
        state = replace(state, core=core, decision=decision, last_verdict_at=now)
        if decision is Decision.FAILURE:
            state = replace(state, failed_at=now)
        return state, decision


def _score(verdict: Verdict) -> float:
    """Return the verdict's failure score clamped to 0-100 (NaN counts as 0)."""
    score = verdict.failure_score
    if math.isnan(score):
        return 0.0
    return min(100.0, max(0.0, score))


# --- two_yes: the original MK4S script -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TwoYesCore(PolicyCore):
    """Consecutive YES answers."""

    yes_streak: int = 0


class TwoYesPolicy(_BasePolicy[TwoYesCore]):
    """The original MK4S script: stop after two YES answers in a row.

    YES is `failure_score >= 50`. One YES warns, two consecutive YES fail. A NO
    resets the streak; an error holds it. Sensitivity is not used.
    """

    name = "two_yes"
    YES_SCORE: Final = 50.0

    @property
    def _core_type(self) -> type[TwoYesCore]:
        return TwoYesCore

    def _initial_core(self) -> TwoYesCore:
        return TwoYesCore()

    def _observe(
        self, core: TwoYesCore, verdict: Verdict, now: float, dt: float | None
    ) -> TwoYesCore:
        if _score(verdict) >= self.YES_SCORE:
            return TwoYesCore(yes_streak=core.yes_streak + 1)
        return TwoYesCore()

    def _decide(self, core: TwoYesCore, previous: Decision, now: float) -> Decision:
        if core.yes_streak >= 2:
            return Decision.FAILURE
        if core.yes_streak == 1:
            return Decision.WARNING
        return Decision.OK


# --- printwatch: a buffer of 16 inferences ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class PrintWatchCore(PolicyCore):
    """The newest inferences, oldest first (True = positive)."""

    buffer: tuple[bool, ...] = ()


class PrintWatchPolicy(_BasePolicy[PrintWatchCore]):
    """PrintWatch: act on the share of positives in a buffer of 16 inferences.

    Positive is `failure_score >= 50`. Once the buffer is full, 60 % positive warns
    and 80 % fails. Errors add nothing to the buffer. Sensitivity is not used.
    """

    name = "printwatch"
    BUFFER: Final = 16
    POSITIVE_SCORE: Final = 50.0
    WARNING_SHARE: Final = 0.6
    FAILURE_SHARE: Final = 0.8

    @property
    def _core_type(self) -> type[PrintWatchCore]:
        return PrintWatchCore

    def _initial_core(self) -> PrintWatchCore:
        return PrintWatchCore()

    def _observe(
        self, core: PrintWatchCore, verdict: Verdict, now: float, dt: float | None
    ) -> PrintWatchCore:
        positive = _score(verdict) >= self.POSITIVE_SCORE
        return PrintWatchCore(buffer=(*core.buffer, positive)[-self.BUFFER :])

    def _decide(self, core: PrintWatchCore, previous: Decision, now: float) -> Decision:
        if len(core.buffer) < self.BUFFER:
            return Decision.OK
        share = sum(core.buffer) / self.BUFFER
        if share >= self.FAILURE_SHARE:
            return Decision.FAILURE
        if share >= self.WARNING_SHARE:
            return Decision.WARNING
        return Decision.OK


# --- gadget: the detector's own suggestions --------------------------------------


@dataclass(frozen=True, kw_only=True)
class GadgetCore(PolicyCore):
    """The detector's latest suggestion."""

    suggestion: Decision = Decision.OK


class GadgetPolicy(_BasePolicy[GadgetCore]):
    """OctoEverywhere Gadget: follow the detector's own temporal suggestions.

    Gadget's server runs its own temporal model and returns `WarningSuggested` /
    `PauseSuggested` (our `Verdict.warning` / `Verdict.pause`); this policy acts on
    them as they come. Errors hold the last suggestion. Sensitivity is not used
    (Gadget's warning and pause levels are detector options).
    """

    name = "gadget"

    @property
    def _core_type(self) -> type[GadgetCore]:
        return GadgetCore

    def _initial_core(self) -> GadgetCore:
        return GadgetCore()

    def _observe(
        self, core: GadgetCore, verdict: Verdict, now: float, dt: float | None
    ) -> GadgetCore:
        if verdict.pause:
            return GadgetCore(suggestion=Decision.FAILURE)
        if verdict.warning:
            return GadgetCore(suggestion=Decision.WARNING)
        return GadgetCore(suggestion=Decision.OK)

    def _decide(self, core: GadgetCore, previous: Decision, now: float) -> Decision:
        return core.suggestion


# --- obico: EWM against rolling means --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ObicoCore(PolicyCore):
    """Obico's `PrinterPrediction` fields."""

    current_frame_num: int = 0
    lifetime_frame_num: int = 0
    ewm_mean: float = 0.0
    rolling_mean_short: float = 0.0
    rolling_mean_long: float = 0.0


class ObicoPolicy(_BasePolicy[ObicoCore]):
    """Obico (The Spaghetti Detective), after `backend/lib/prediction.py`.

    Our reading of the published rule, with p = failure_score / 100 standing in for
    Obico's per-frame sum of detection confidences:

    - per frame: `current_frame_num += 1`, `lifetime_frame_num += 1`;
      `ewm_mean = p * a + ewm_mean * (1 - a)` with `a = 2 / (12 + 1)` (span 12);
      `rolling_mean_short` / `_long` are streaming approximations of 310- and
      7200-frame rolling means: `m += (p - m) / (win if win <= count else count + 1)`.
    - `is_failing(f)`: False during the first 30 frames (INIT_SAFE_FRAME_NUM);
      `adjusted = (ewm_mean - rolling_mean_long) * sensitivity / f`; False if
      `adjusted < 0.38` (THRESHOLD_LOW); True if `adjusted > 0.78` (THRESHOLD_HIGH);
      otherwise True if `adjusted > (rolling_mean_short - rolling_mean_long) *
      ROLLING_MEAN_SHORT_MULTIPLE`.
    - warning when `is_failing(1)`, failure (pause) when `is_failing(1.75)`
      (ESCALATING_FACTOR), i.e. at 1.75x the alert level.

    ROLLING_MEAN_SHORT_MULTIPLE is 3.8 in Obico's published settings (the issue's
    summary says 2); we use the published value. Like Obico, the long mean and the
    lifetime frame count are printer memory: they survive a resume, and a new print
    keeps them when given the previous print's state (`on_new_print(now, previous)`);
    without one they start from zero, and the long mean is then just the mean of
    the print so far. The
    sensitivity multiplier (Obico's `detective_sensitivity`) is 0.8 / 1.0 / 1.2 for
    low / medium / high. Frames are counted, not seconds: at a 20 s check interval
    the 30 safe frames last 10 minutes. Our p never exceeds 1 (Obico's sum over
    several detections can), so the escalated THRESHOLD_HIGH branch (adjusted >
    0.78 x 1.75) is out of reach: pauses come only from the short-mean branch, i.e.
    when the failure is recent compared with the print's own mean so far.
    """

    name = "obico"
    EWM_ALPHA: Final = 2 / (12 + 1)
    ROLLING_WIN_SHORT: Final = 310
    ROLLING_WIN_LONG: Final = 7200
    THRESHOLD_LOW: Final = 0.38
    THRESHOLD_HIGH: Final = 0.78
    INIT_SAFE_FRAME_NUM: Final = 30
    ROLLING_MEAN_SHORT_MULTIPLE: Final = 3.8
    ESCALATING_FACTOR: Final = 1.75
    DETECTIVE_SENSITIVITY: Final = {"low": 0.8, "medium": 1.0, "high": 1.2}

    @property
    def _core_type(self) -> type[ObicoCore]:
        return ObicoCore

    def _initial_core(self) -> ObicoCore:
        return ObicoCore()

    def _carry(self, core: ObicoCore) -> ObicoCore:
        return ObicoCore(
            lifetime_frame_num=core.lifetime_frame_num,
            rolling_mean_long=core.rolling_mean_long,
        )

    @staticmethod
    def _rolling(p: float, mean: float, count: int, win: int) -> float:
        return mean + (p - mean) / float(win if win <= count else count + 1)

    def _observe(
        self, core: ObicoCore, verdict: Verdict, now: float, dt: float | None
    ) -> ObicoCore:
        p = _score(verdict) / 100
        current = core.current_frame_num + 1
        lifetime = core.lifetime_frame_num + 1
        return ObicoCore(
            current_frame_num=current,
            lifetime_frame_num=lifetime,
            ewm_mean=p * self.EWM_ALPHA + core.ewm_mean * (1 - self.EWM_ALPHA),
            rolling_mean_short=self._rolling(
                p, core.rolling_mean_short, current, self.ROLLING_WIN_SHORT
            ),
            rolling_mean_long=self._rolling(
                p, core.rolling_mean_long, lifetime, self.ROLLING_WIN_LONG
            ),
        )

    def is_failing(self, core: ObicoCore, escalating_factor: float = 1.0) -> bool:
        """Return Obico's `is_failing` for this core."""
        if core.current_frame_num < self.INIT_SAFE_FRAME_NUM:
            return False
        sensitivity = self.DETECTIVE_SENSITIVITY[self.sensitivity]
        adjusted = (
            (core.ewm_mean - core.rolling_mean_long) * sensitivity / escalating_factor
        )
        if adjusted < self.THRESHOLD_LOW:
            return False
        if adjusted > self.THRESHOLD_HIGH:
            return True
        return adjusted > (
            (core.rolling_mean_short - core.rolling_mean_long)
            * self.ROLLING_MEAN_SHORT_MULTIPLE
        )

    def _decide(self, core: ObicoCore, previous: Decision, now: float) -> Decision:
        if self.is_failing(core, self.ESCALATING_FACTOR):
            return Decision.FAILURE
        if self.is_failing(core):
            return Decision.WARNING
        return Decision.OK


# --- sentinel: the default -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SentinelTuning:
    """The knobs of `SentinelPolicy` for one sensitivity."""

    tau: float
    """Time constant of the smoothed score, seconds."""
    bad_score: float
    """A verdict whose evidence reaches this is a bad frame."""
    confirm: int
    """Consecutive bad verdicts needed to fail (never fewer than 2)."""
    confirm_span: float
    """Seconds the evidence must have stayed elevated before it can fail."""
    fail_on: float
    """Smoothed score needed to fail."""
    latest_on: float
    """The newest verdict's evidence needed to fail: the print must look failed now.

    This separates a passing obstruction (a hand in view for two snapshots: bad,
    worse, fading) from a failure, which keeps looking bad."""
    warn_on: float
    """Smoothed score that raises a warning..."""
    warn_off: float
    """...and the level it must fall below to clear it (hysteresis)."""
    quiet_period: float
    """Seconds after the print starts during which verdicts are ignored."""
    elevated_score: float = 30.0
    """Evidence at or above this keeps an episode of elevated evidence going."""
    pause_evidence: float = 85.0
    """Evidence a detector's own `pause` suggestion carries (its score if higher)."""
    stale_after: float = 300.0
    """A warning clears when no verdict has arrived for this long."""


SENTINEL_TUNING: Final = {
    "low": SentinelTuning(
        tau=30,
        bad_score=70,
        confirm=3,
        confirm_span=55,
        fail_on=70,
        latest_on=75,
        warn_on=55,
        warn_off=40,
        quiet_period=180,
    ),
    "medium": SentinelTuning(
        tau=30,
        bad_score=60,
        confirm=2,
        confirm_span=35,
        fail_on=55,
        latest_on=70,
        warn_on=45,
        warn_off=30,
        quiet_period=120,
    ),
    "high": SentinelTuning(
        tau=30,
        bad_score=50,
        confirm=2,
        confirm_span=15,
        fail_on=50,
        latest_on=65,
        warn_on=35,
        warn_off=22,
        quiet_period=120,
    ),
}


@dataclass(frozen=True, kw_only=True)
class SentinelCore(PolicyCore):
    """The smoothed evidence and the current episode of elevated evidence."""

    smoothed: float = 0.0
    """Time-aware exponentially weighted mean of the evidence (0-100)."""
    latest: float = 0.0
    """The newest verdict's evidence."""
    bad_streak: int = 0
    """Consecutive bad verdicts (errors neither break nor extend it)."""
    elevated_since: float | None = None
    """When the current run of verdicts at `elevated_score` or more began."""
    kind: FailureKind = FailureKind.NONE
    """What the latest bad verdict showed."""
    verdicts: int = 0


class SentinelPolicy(_BasePolicy[SentinelCore]):
    """The default: smoothed evidence, confirmation, hysteresis, quiet start.

    - Evidence per verdict is its failure score; a detector's own `pause` suggestion
      lifts it to at least `pause_evidence`, so it counts as a bad frame, but like
      any single frame it cannot fail the print alone.
    - The smoothed score is an exponentially weighted mean with a time constant
      (`alpha = 1 - exp(-dt / tau)`), so irregular or slow check intervals weigh
      each verdict by the time it covers. After a long gap the newest verdict
      dominates; verdicts seconds apart barely move it.
    - Failure needs all of: `confirm` consecutive bad verdicts; evidence elevated
      (every verdict at `elevated_score` or more) for `confirm_span` seconds; the
      smoothed score at `fail_on`; and the newest verdict at `latest_on`. One bad
      frame never pauses, a burst of verdicts seconds apart does not either, and
      neither does a passing obstruction whose verdicts are already fading.
    - Warning when the smoothed score reaches `warn_on`, cleared below `warn_off`,
      or when the detector has been silent for `stale_after` seconds.
    - Verdicts in the first `quiet_period` seconds of a print are ignored (an empty
      bed, a purge line and a first layer confuse vision models).

    Sensitivity picks a `SentinelTuning` (see `SENTINEL_TUNING`): `high` confirms
    on two checks at lower scores (faster; a hand in view for two snapshots can
    pause it), `low` on three at higher scores over a minute. At medium and a 20 s
    check interval a sudden failure pauses on the third check after it appears:
    within 60 s of the onset. (The detector itself weighs the last three frames,
    so its first verdict after the onset is lukewarm and its second cannot tell a
    failure from a hand in view; the third can.)
    """

    name = "sentinel"
    FIRST_ALPHA: Final = 0.5
    """Weight of the first verdict, when there is no previous one to measure from."""

    def __init__(
        self,
        *,
        sensitivity: str,
        resume_grace: float,
        tuning: SentinelTuning | None = None,
    ) -> None:
        """Initialise; `tuning` overrides the sensitivity's preset."""
        super().__init__(sensitivity=sensitivity, resume_grace=resume_grace)
        self.tuning = tuning or SENTINEL_TUNING[sensitivity]
        if self.tuning.confirm < 2:
            raise ValueError("sentinel needs at least two confirming verdicts")
        self.quiet_period = self.tuning.quiet_period

    @property
    def _core_type(self) -> type[SentinelCore]:
        return SentinelCore

    def _initial_core(self) -> SentinelCore:
        return SentinelCore()

    def evidence(self, verdict: Verdict) -> float:
        """Return how failed one verdict says the print is (0-100)."""
        score = _score(verdict)
        if verdict.pause:
            score = max(score, self.tuning.pause_evidence)
        return score

    def _observe(
        self, core: SentinelCore, verdict: Verdict, now: float, dt: float | None
    ) -> SentinelCore:
        tuning = self.tuning
        evidence = self.evidence(verdict)
        alpha = self.FIRST_ALPHA if dt is None else -math.expm1(-dt / tuning.tau)
        bad = evidence >= tuning.bad_score
        elevated_since = None
        if evidence >= tuning.elevated_score:
            elevated_since = now if core.elevated_since is None else core.elevated_since
        return SentinelCore(
            smoothed=core.smoothed + alpha * (evidence - core.smoothed),
            latest=evidence,
            bad_streak=core.bad_streak + 1 if bad else 0,
            elevated_since=elevated_since,
            kind=verdict.kind if bad else core.kind,
            verdicts=core.verdicts + 1,
        )

    def _decide(self, core: SentinelCore, previous: Decision, now: float) -> Decision:
        tuning = self.tuning
        if (
            core.bad_streak >= tuning.confirm
            and core.elevated_since is not None
            and now - core.elevated_since >= tuning.confirm_span
            and core.smoothed >= tuning.fail_on
            and core.latest >= tuning.latest_on
        ):
            return Decision.FAILURE
        if core.smoothed >= tuning.warn_on:
            return Decision.WARNING
        if previous is Decision.WARNING and core.smoothed >= tuning.warn_off:
            return Decision.WARNING
        return Decision.OK

    def _decide_without_verdict(
        self,
        core: SentinelCore,
        previous: Decision,
        now: float,
        since_verdict: float | None,
    ) -> Decision:
        if since_verdict is not None and since_verdict >= self.tuning.stale_after:
            return Decision.OK
        return previous


# --- registry --------------------------------------------------------------------

SENSITIVITIES: Final = ("low", "medium", "high")
POLICIES: Final[tuple[str, ...]] = (
    SentinelPolicy.name,
    TwoYesPolicy.name,
    PrintWatchPolicy.name,
    GadgetPolicy.name,
    ObicoPolicy.name,
)
"""Policy names, the default first."""


def make_policy(
    name: str = DEFAULT_POLICY,
    sensitivity: str = DEFAULT_SENSITIVITY,
    resume_grace: float = DEFAULT_RESUME_GRACE,
) -> Policy:
    """Build a named policy. Raises ValueError for an unknown name or sensitivity."""
    match name:
        case SentinelPolicy.name:
            return SentinelPolicy(sensitivity=sensitivity, resume_grace=resume_grace)
        case TwoYesPolicy.name:
            return TwoYesPolicy(sensitivity=sensitivity, resume_grace=resume_grace)
        case PrintWatchPolicy.name:
            return PrintWatchPolicy(sensitivity=sensitivity, resume_grace=resume_grace)
        case GadgetPolicy.name:
            return GadgetPolicy(sensitivity=sensitivity, resume_grace=resume_grace)
        case ObicoPolicy.name:
            return ObicoPolicy(sensitivity=sensitivity, resume_grace=resume_grace)
    raise ValueError(f"unknown policy {name!r}")
