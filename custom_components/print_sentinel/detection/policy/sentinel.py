"""The default policy: evidence against this print's own baseline.

Two tests run side by side:

- **acute**, for failures that look bad (spaghetti, a detached part, a blob): a
  CUSUM of log-likelihood ratios on the rate of *bad frames* (the textbook way to
  ask "has the rate of something changed?" one observation at a time). A failed
  print shows bad frames in most checks (`hit_rate`); a good one at the rate this
  camera shows them anyway, its baseline. Each frame adds `log(hit_rate / base)`
  when bad and `log((1 - hit_rate) / (1 - base))` when fine, weighed by how bad it
  is (a 75 is a third of a bad frame, an 88 a whole one). On a clean camera three
  bad frames in a row are enough; on a camera with a bed clip that scores 85 in one
  frame of five, the baseline has learned that rate and scattered hits are no
  evidence. When the detector names kinds, a bad frame naming the same kind as the
  last one is more evidence (failures look the same from frame to frame, clips and
  reflections do not), one naming another kind less.
- **chronic**, for failures that only look moderate (a subtle layer shift the
  detector scores 45-65): the share of *moderate frames* over the last minutes (a
  time-weighted mean, `chronic_tau`) must stay up for `chronic_span`. How long and
  how high depend on what the detector names: half the span at a quarter of the
  frames when it keeps naming one specific failure (a layer shift, a blob), the
  span at half the frames when it names nothing specific (detectors without kinds
  always say "spaghetti"), twice the span when the kinds wander (infill patterns
  and supports look like a different failure from frame to frame). One kind means
  seven frames in ten name it (a clip named at random among four kinds reaches
  five of eight by chance). The span starts over whenever the share falls to
  twice what this print shows anyway, so a clip's steady rate never builds one.

Around them:

- The baseline is the print's own: rates and mean of verdicts at least
  `baseline_lag` checks old, starting from the printer's learned `PrinterBaseline`
  or a prior. Once the print is warm (`warmup`), verdicts of an ongoing episode
  wait (up to `baseline_hold`) so it never learns itself. A moderate frame is
  measured against the print's mean, so a busy scene raises the bar for it.
- An error never joins two hits: a check without a verdict is no evidence either
  way, every hit needs a verdict of its own (two are never enough), and across a
  long gap (`gap_grace`) the acute evidence fades.
- Failure needs `min_hits` bad frames spanning `acute_span` seconds (a hand in
  view for 20-40 s passes), and the newest verdict still bad (or moderate, for the
  chronic test).
- The start of a print (`quiet_period`: purge line, wipe, first layer) counts at
  half weight and cannot fail or warn; evidence that outlasts it can.
- When the user overrules a decision (resumes Print Sentinel's own pause, or marks
  it a false alarm), what was in view joins this print's baseline three times over
  and the bar rises by `overrule_raise` for the rest of the print.
- Warning when either test is halfway there (`warn_fraction`), cleared below
  `warn_off_fraction` or when the detector has been silent for `stale_after`.

`learn` folds a good print's baseline into the printer's (an average over about
the last `PRINTER_MEMORY` prints), which the next print starts from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
import math
from typing import Final

from ..verdict import FailureKind, Verdict
from .framework import (
    MAX_OVERRULINGS,
    BasePolicy,
    Decision,
    PolicyCore,
    PolicyState,
    PrinterBaseline,
    bounded,
    score_of,
)

PRINTER_MEMORY: Final = 10
"""A printer's baseline averages over about this many recent good prints."""

SPECIFIC_KINDS: Final = frozenset(
    {
        FailureKind.LAYER_SHIFT,
        FailureKind.UNDER_EXTRUSION,
        FailureKind.WARPING,
        FailureKind.BLOB,
        FailureKind.DETACHMENT,
    }
)
"""Kinds only a detector that names what it sees reports."""

SPECIFIC: Final = "specific"
UNSPECIFIC: Final = "unspecific"
MIXED: Final = "mixed"


@dataclass(frozen=True, kw_only=True)
class SentinelTuning:
    """The knobs of `SentinelPolicy` for one sensitivity."""

    acute_threshold: float
    """Log-likelihood ratio of bad frames needed to fail."""
    acute_span: float
    """Seconds the bad frames of an episode must span (first to newest)."""
    chronic_span: float
    """Seconds the share of moderate frames must stay up (detectors without kinds;
    half when one specific kind is named, twice when the kinds wander)."""
    chronic_share: float = 0.6
    """Share of moderate frames that counts (half of it for a specific kind)."""
    min_hits: int = 3
    """Bad frames an episode needs before it can fail (never fewer than 2)."""
    bad_low: float = 60.0
    """Evidence at which a frame starts to count as bad (weight 0)..."""
    bad_high: float = 88.0
    """...and at which it is wholly bad (weight 1, quadratic between); a frame of
    weight 0.5 or more is a hit."""
    hit_rate: float = 0.85
    """Share of bad frames a failed print shows."""
    same_kind_failure: float = 0.6
    """Chance that a failure's bad frame names the kind the last one named..."""
    same_kind_confuser: float = 0.25
    """...and that a passing confuser's does. Their ratio is extra evidence."""
    moderate_score: float = 45.0
    """A frame above this evidence is moderate..."""
    moderate_margin: float = 20.0
    """...and above the print's mean by this much; wholly so `moderate_width`
    higher."""
    moderate_width: float = 10.0
    chronic_tau: float = 120.0
    """Time constant (seconds) of the share of moderate frames."""
    chronic_start: float = 0.7
    """The span counts from when the share reaches this part of what counts..."""
    chronic_reset: float = 0.4
    """...and starts over below this part; failing takes the whole share."""
    chronic_reset_base: float = 2.0
    """...or below this many times the baseline's rate of moderate frames: a share
    that only hovers at what this camera always shows (a clip in a third of the
    frames) never builds up a span."""
    level_tau: float = 60.0
    """Time constant (seconds) of the smoothed evidence."""
    growth: float = 12.0
    """When the newer half of a chronic episode's moderate frames scores this much
    more than the older half, its span halves (twice as much: a quarter). Real
    failures grow; plateaus, infill and supports do not. Only frames of the
    episode count, so the step from a clean print onto a plateau is no growth."""
    growth_frames: int = 6
    """Moderate frames an episode needs before growth is judged..."""
    growth_memory: int = 12
    """...and the newest this many are compared."""
    chronic_min_verdicts: int = 4
    """Moderate verdicts a chronic episode needs before it can fail."""
    kind_agreement: float = 0.7
    """Share of recent moderate frames naming one kind for it to be consistent."""
    kind_memory: float = 600.0
    prior_bad_rate: float = 0.03
    prior_moderate_rate: float = 0.05
    prior_mean: float = 10.0
    prior_weight: float = 20.0
    """Verdicts' worth of weight of the prior (the printer's baseline weighs more)."""
    min_base_rate: float = 0.02
    max_bad_base_rate: float = 0.6
    baseline_lag: int = 6
    """Verdicts that wait before they join the baseline..."""
    baseline_hold: int = 45
    """...and up to this many while an episode lasts, once the print is warm."""
    baseline_horizon: float = 150.0
    """Verdicts the baseline averages over."""
    warmup: float = 600.0
    """Seconds at the start of a print during which the baseline learns from all."""
    gap_grace: float = 90.0
    """A gap between verdicts (errors, unclear answers) longer than this..."""
    gap_tau: float = 180.0
    """...lets the acute evidence fade with this time constant."""
    quiet_period: float = 200.0
    """Seconds after the print starts that count at half weight and cannot fail."""
    quiet_weight: float = 0.5
    quiet_cap: float = 0.7
    """During the quiet period the acute evidence stays below this share."""
    overrule_raise: float = 0.5
    """Each time the user overrules a decision, thresholds grow by this share
    (the chronic span by twice as much)..."""
    overrule_margin: float = 5.0
    """A moderate frame must score this much above what the user overruled..."""
    overrule_memory: float = 0.8
    """...and the baseline's rates never fall below this share of the rates of
    what was in view."""
    warn_fraction: float = 0.5
    warn_off_fraction: float = 0.3
    pause_evidence: float = 85.0
    """Evidence a detector's own `pause` suggestion carries (its score if higher)."""
    stale_after: float = 300.0
    """A warning clears when no verdict has arrived for this long."""


SENTINEL_TUNING: Final = {
    "low": SentinelTuning(
        acute_threshold=11.0,
        acute_span=60.0,
        chronic_span=360.0,
        chronic_share=0.7,
        min_hits=4,
    ),
    "medium": SentinelTuning(
        acute_threshold=8.5,
        acute_span=38.0,
        chronic_span=240.0,
    ),
    "high": SentinelTuning(
        acute_threshold=6.0,
        acute_span=18.0,
        chronic_span=180.0,
        chronic_share=0.5,
        min_hits=2,
    ),
}
"""Medium meets the targets of `benchmarks.replay` at 20 s; low trades speed for
fewer false pauses, high the reverse (`scripts/bench replay` shows the curve)."""


@dataclass(frozen=True, kw_only=True)
class SentinelCore(PolicyCore):
    """The two tests, the print's baseline and what the user told us."""

    acute: float = 0.0
    """CUSUM of the bad-frame evidence (0 = nothing going on)."""
    acute_since: float | None = None
    """When the first bad frame of the current acute episode arrived."""
    hits: int = 0
    """Bad frames in the current acute episode."""
    hit_kind: FailureKind = FailureKind.NONE
    """The kind the episode's last bad frame named."""
    chronic: float = 0.0
    """Time-weighted share (0-1) of moderate frames over the last minutes."""
    chronic_since: float | None = None
    """Since when that share has been up."""
    chronic_verdicts: int = 0
    """Moderate verdicts since then."""
    level: float = 0.0
    """Smoothed evidence (time constant `level_tau`)."""
    episode: tuple[float, ...] = ()
    """Evidence of the chronic episode's newest moderate frames (for growth)."""
    moderate_kinds: tuple[FailureKind, ...] = ()
    """Kinds of the last moderate frames (consistency of the failure kind)..."""
    moderate_at: float | None = None
    """...and when the last came (they are forgotten `kind_memory` later)."""
    latest: float = 0.0
    """The newest verdict's evidence."""
    kind: FailureKind = FailureKind.NONE
    """What the latest bad or moderate verdict showed."""
    first_kind: FailureKind = FailureKind.NONE
    """The first kind a bad or moderate frame named this print."""
    names_kinds: bool = False
    """Whether the detector has named more than one kind (else kinds tell nothing)."""
    pending: tuple[float, ...] = ()
    """The newest verdicts' evidence, waiting to join the baseline."""
    base_count: float = 0.0
    base_bad: float = 0.0
    base_moderate: float = 0.0
    base_sum: float = 0.0
    """The print's baseline: (decayed) verdicts, bad and moderate ones, evidence sum."""
    prior_bad: float = 0.03
    prior_moderate: float = 0.05
    prior_mean: float = 10.0
    prior_weight: float = 20.0
    overruled: int = 0
    """Times the user overruled a decision during this print..."""
    floor_bad: float = 0.0
    floor_moderate: float = 0.0
    """...the rates of what was in view then: the baseline never goes below..."""
    overruled_level: float = 0.0
    """...and how bad it looked (smoothed): a moderate frame must look worse."""
    started_at: float | None = None
    verdicts: int = 0

    @property
    def base_bad_rate(self) -> float:
        """Rate of bad frames on this print so far (prior included)."""
        return (self.prior_weight * self.prior_bad + self.base_bad) / (
            self.prior_weight + self.base_count
        )

    @property
    def base_moderate_rate(self) -> float:
        """Rate of moderate frames on this print so far (prior included)."""
        return (self.prior_weight * self.prior_moderate + self.base_moderate) / (
            self.prior_weight + self.base_count
        )

    @property
    def base_mean(self) -> float:
        """Mean evidence on this print so far (prior included)."""
        return (self.prior_weight * self.prior_mean + self.base_sum) / (
            self.prior_weight + self.base_count
        )


def _weight(evidence: float, tuning: SentinelTuning) -> float:
    """How much of a bad frame one verdict is (0-1, rising steeply near the top)."""
    if evidence <= tuning.bad_low:
        return 0.0
    if evidence >= tuning.bad_high:
        return 1.0
    share = (evidence - tuning.bad_low) / (tuning.bad_high - tuning.bad_low)
    return share * share


def _moderation(evidence: float, moderate_at: float, width: float) -> float:
    """How much of a moderate frame one verdict is (0-1)."""
    if evidence <= moderate_at:
        return 0.0
    if evidence >= moderate_at + width:
        return 1.0
    return (evidence - moderate_at) / width


def kind_class(kinds: tuple[FailureKind, ...], agreement: float) -> str:
    """SPECIFIC, UNSPECIFIC or MIXED: what the recent moderate frames named."""
    if len(kinds) < 3:
        return UNSPECIFIC
    kind, count = Counter(kinds).most_common(1)[0]
    if count < agreement * len(kinds):
        return MIXED
    return SPECIFIC if kind in SPECIFIC_KINDS else UNSPECIFIC


class SentinelPolicy(BasePolicy[SentinelCore]):
    """The default: two tests against the print's own baseline.

    See the module docstring for the rules; `SENTINEL_TUNING` holds the numbers of
    each sensitivity (placed on the replay benchmark's curve).
    """

    name = "sentinel"
    KIND_MEMORY: Final = 8
    FIRST_ALPHA: Final = 0.1
    """Weight of the first verdict in the share of moderate frames."""

    def __init__(
        self,
        *,
        sensitivity: str,
        resume_grace: float,
        tuning: SentinelTuning | None = None,
    ) -> None:
        """Initialise; `tuning` overrides the sensitivity's preset."""
        super().__init__(sensitivity=sensitivity, resume_grace=resume_grace)
        tuning = tuning or SENTINEL_TUNING[sensitivity]
        if tuning.min_hits < 2:
            raise ValueError("sentinel needs at least two confirming verdicts")
        self.tuning = tuning
        self._decay = 1.0 - 1.0 / max(tuning.baseline_horizon, 1.0)
        self._same = math.log(tuning.same_kind_failure / tuning.same_kind_confuser)
        self._other = math.log(
            (1.0 - tuning.same_kind_failure) / (1.0 - tuning.same_kind_confuser)
        )

    @property
    def _core_type(self) -> type[SentinelCore]:
        return SentinelCore

    def _initial_core(self) -> SentinelCore:
        tuning = self.tuning
        return SentinelCore(
            prior_bad=tuning.prior_bad_rate,
            prior_moderate=tuning.prior_moderate_rate,
            prior_mean=tuning.prior_mean,
            prior_weight=tuning.prior_weight,
        )

    def _start(
        self, previous: SentinelCore | None, baseline: PrinterBaseline | None
    ) -> SentinelCore:
        core = self._initial_core()
        if baseline is None or baseline.prints < 1:
            return core
        tuning = self.tuning
        learned = min(baseline.prints, PRINTER_MEMORY) / PRINTER_MEMORY
        return replace(
            core,
            prior_bad=max(tuning.min_base_rate, baseline.high_rate),
            prior_moderate=max(tuning.min_base_rate, baseline.elevated_rate),
            prior_mean=baseline.mean,
            prior_weight=tuning.prior_weight * (1.0 + 2.0 * learned),
        )

    def on_new_print(
        self,
        now: float,
        previous: PolicyState | None = None,
        baseline: PrinterBaseline | None = None,
        *,
        age: float | None = 0.0,
    ) -> PolicyState:
        """Return a clean state; the printer's `baseline` is this print's prior."""
        state = super().on_new_print(now, previous, baseline, age=age)
        core = self._core(state)
        return replace(state, core=replace(core, started_at=state.print_started_at))

    def evidence(self, verdict: Verdict) -> float:
        """Return how failed one verdict says the print is (0-100)."""
        score = score_of(verdict)
        if verdict.pause:
            score = max(score, self.tuning.pause_evidence)
        return score

    def _raise(self, core: SentinelCore) -> float:
        return 1.0 + self.tuning.overrule_raise * core.overruled

    def _moderate_at(self, core: SentinelCore) -> float:
        tuning = self.tuning
        return max(
            tuning.moderate_score,
            core.base_mean + tuning.moderate_margin,
            core.overruled_level + tuning.overrule_margin if core.overruled else 0.0,
        )

    def _chronic_bar(self, core: SentinelCore) -> tuple[float, float]:
        """The share of moderate frames that counts, and for how many seconds."""
        tuning = self.tuning
        match kind_class(core.moderate_kinds, tuning.kind_agreement):
            case "specific":
                share, span = tuning.chronic_share / 2, tuning.chronic_span / 2
            case "mixed":
                share, span = tuning.chronic_share, tuning.chronic_span * 2
            case _:
                share, span = tuning.chronic_share, tuning.chronic_span
        floor = 2.0 * max(
            core.base_moderate_rate, tuning.min_base_rate, core.floor_moderate
        )
        raised = self._raise(core)
        return min(max(share, floor) * raised, 0.95), span * (2.0 * raised - 1.0)

    def _warm(self, core: SentinelCore, now: float) -> bool:
        """Past the warm-up, when the baseline stops learning from everything."""
        return core.started_at is None or now >= core.started_at + self.tuning.warmup

    def _in_quiet(self, core: SentinelCore, now: float) -> bool:
        return (
            core.started_at is not None
            and now < core.started_at + self.tuning.quiet_period
        )

    def _observe(
        self, core: SentinelCore, verdict: Verdict, now: float, dt: float | None
    ) -> SentinelCore:
        tuning = self.tuning
        evidence = self.evidence(verdict)
        kind = verdict.kind
        quiet = self._in_quiet(core, now)
        names_kinds = core.names_kinds

        # acute: a CUSUM of bad frames against the baseline's rate of them
        base_bad = min(
            max(core.base_bad_rate, tuning.min_base_rate, core.floor_bad),
            tuning.max_bad_base_rate,
        )
        weight = _weight(evidence, tuning)
        hit = weight >= 0.5
        gain = math.log(tuning.hit_rate / base_bad)
        if core.hits and names_kinds:
            gain += self._same if kind == core.hit_kind else self._other
        if quiet:
            gain *= tuning.quiet_weight
        loss = math.log((1.0 - tuning.hit_rate) / (1.0 - base_bad))
        acute = core.acute
        if dt is not None and dt > tuning.gap_grace:
            acute *= math.exp(-(dt - tuning.gap_grace) / tuning.gap_tau)
        acute = max(0.0, acute + weight * gain + (1.0 - weight) * loss)
        if quiet:
            acute = min(acute, tuning.quiet_cap * tuning.acute_threshold)
        if acute <= 0.0:
            acute_since, hits, hit_kind = None, 0, FailureKind.NONE
        elif hit:
            acute_since = now if core.acute_since is None else core.acute_since
            hits, hit_kind = core.hits + 1, kind
        else:
            acute_since, hits, hit_kind = core.acute_since, core.hits, core.hit_kind

        # chronic: the time-weighted share of moderate frames
        moderation = _moderation(
            evidence, self._moderate_at(core), tuning.moderate_width
        )
        if dt is None:
            alpha = self.FIRST_ALPHA
        else:
            alpha = -math.expm1(-min(dt, 2 * tuning.chronic_tau) / tuning.chronic_tau)
        chronic = core.chronic + alpha * (moderation - core.chronic)
        if dt is None:
            level = evidence
        else:
            level = core.level - math.expm1(
                -min(dt, 2 * tuning.level_tau) / tuning.level_tau
            ) * (evidence - core.level)
        moderate_kinds, moderate_seen = core.moderate_kinds, core.moderate_at
        if moderate_seen is not None and now - moderate_seen > tuning.kind_memory:
            moderate_kinds = ()
        if moderation > 0.0:
            moderate_kinds = (*moderate_kinds, kind)[-self.KIND_MEMORY :]
            moderate_seen = now
        probe = replace(core, chronic=chronic, moderate_kinds=moderate_kinds)
        share, _ = self._chronic_bar(probe)
        stale = dt is not None and dt > tuning.chronic_tau
        chronic_since, chronic_verdicts = core.chronic_since, core.chronic_verdicts
        episode = core.episode
        if chronic >= tuning.chronic_start * share and not stale:
            if chronic_since is None:
                chronic_since, chronic_verdicts, episode = now, 0, ()
            chronic_verdicts += moderation > 0.0
            if moderation > 0.0:
                episode = (*episode, evidence)[-tuning.growth_memory :]
        elif (
            chronic < tuning.chronic_reset * share
            or stale
            or (
                self._warm(core, now)
                and chronic
                < tuning.chronic_reset_base
                * max(core.base_moderate_rate, core.floor_moderate)
            )
        ):
            chronic_since, chronic_verdicts, episode = None, 0, ()

        # the baseline learns from verdicts `baseline_lag` checks old; once the
        # print is warm, verdicts of an ongoing episode wait (up to `baseline_hold`)
        pending = (*core.pending, evidence)
        base_count, base_bad_n = core.base_count, core.base_bad
        base_moderate_n, base_sum = core.base_moderate, core.base_sum
        ongoing = acute > 0.0 or chronic_since is not None or chronic >= 0.5 * share
        warm = self._warm(core, now)
        keep = tuning.baseline_hold if ongoing and warm else tuning.baseline_lag
        if len(pending) > keep:
            decay = self._decay
            for old in pending[: len(pending) - keep]:
                base_count = base_count * decay + 1.0
                base_bad_n = base_bad_n * decay + (_weight(old, tuning) >= 0.5)
                base_moderate_n = base_moderate_n * decay + (
                    old > tuning.moderate_score
                )
                base_sum = base_sum * decay + old
            pending = pending[len(pending) - keep :]

        flagged = hit or moderation > 0.0
        first_kind = core.first_kind
        if flagged and kind is not FailureKind.NONE:
            if first_kind is FailureKind.NONE:
                first_kind = kind
            elif kind is not first_kind:
                names_kinds = True
        return replace(
            core,
            acute=acute,
            acute_since=acute_since,
            hits=hits,
            hit_kind=hit_kind,
            chronic=chronic,
            chronic_since=chronic_since,
            chronic_verdicts=chronic_verdicts,
            level=level,
            episode=episode,
            moderate_kinds=moderate_kinds,
            moderate_at=moderate_seen,
            latest=evidence,
            kind=kind if flagged else core.kind,
            first_kind=first_kind,
            names_kinds=names_kinds,
            pending=pending,
            base_count=base_count,
            base_bad=base_bad_n,
            base_moderate=base_moderate_n,
            base_sum=base_sum,
            verdicts=core.verdicts + 1,
        )

    def progress(self, core: SentinelCore, now: float) -> tuple[float, float]:
        """How far the acute and chronic tests are toward failing (1 = there)."""
        acute = core.acute / (self.tuning.acute_threshold * self._raise(core))
        chronic = 0.0
        if core.chronic_since is not None:
            share, span = self._chronic_bar(core)
            grown = self.growth(core) / self.tuning.growth
            if grown >= 1.0:
                span /= 2.0 ** min(int(grown), 2)
            chronic = (now - core.chronic_since) / span if span > 0 else 1.0
            if core.chronic < share:
                chronic = min(chronic, 0.99)
        return acute, chronic

    def growth(self, core: SentinelCore) -> float:
        """How much more the newer half of the episode's frames scores (0: none)."""
        frames = core.episode
        if len(frames) < self.tuning.growth_frames:
            return 0.0
        half = len(frames) // 2
        older = sum(frames[:half]) / half
        newer = sum(frames[-half:]) / half
        return max(0.0, newer - older)

    def _decide(self, core: SentinelCore, previous: Decision, now: float) -> Decision:
        tuning = self.tuning
        if self._in_quiet(core, now):
            return Decision.OK
        acute, chronic = self.progress(core, now)
        if (
            acute >= 1.0
            and _weight(core.latest, tuning) >= 0.5
            and core.hits >= tuning.min_hits
            and core.acute_since is not None
            and now - core.acute_since >= tuning.acute_span
        ):
            return Decision.FAILURE
        if (
            chronic >= 1.0
            and core.chronic_verdicts >= tuning.chronic_min_verdicts
            and core.latest > self._moderate_at(core)
        ):
            return Decision.FAILURE
        level = max(acute, chronic)
        if level >= tuning.warn_fraction:
            return Decision.WARNING
        if previous is Decision.WARNING and level >= tuning.warn_off_fraction:
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

    def _resumed(
        self, core: SentinelCore, now: float, *, overruled: bool
    ) -> SentinelCore:
        """Forget the episode; when overruled, what was in view becomes normal."""
        clean = replace(
            core,
            acute=0.0,
            acute_since=None,
            hits=0,
            hit_kind=FailureKind.NONE,
            chronic=0.0,
            chronic_since=None,
            chronic_verdicts=0,
            level=0.0,
            episode=(),
            moderate_kinds=(),
            moderate_at=None,
            latest=0.0,
            kind=FailureKind.NONE,
            started_at=None,
        )
        if not overruled:
            return clean
        tuning = self.tuning
        base_count, base_bad = clean.base_count, clean.base_bad
        base_moderate, base_sum = clean.base_moderate, clean.base_sum
        # what the user just called normal weighs three times, and its rates stay
        # part of the prior for the rest of the print
        bad = moderate = 0
        for old in core.pending:
            is_bad = _weight(old, tuning) >= 0.5
            is_moderate = old > tuning.moderate_score
            bad += is_bad
            moderate += is_moderate
            base_count += 3.0
            base_bad += 3.0 * is_bad
            base_moderate += 3.0 * is_moderate
            base_sum += 3.0 * old
        count = max(len(core.pending), 1)
        return replace(
            clean,
            floor_bad=min(
                max(core.floor_bad, tuning.overrule_memory * bad / count),
                tuning.max_bad_base_rate,
            ),
            floor_moderate=min(
                max(core.floor_moderate, tuning.overrule_memory * moderate / count),
                0.45,
            ),
            overruled_level=max(core.overruled_level, core.level),
            pending=(),
            base_count=base_count,
            base_bad=base_bad,
            base_moderate=base_moderate,
            base_sum=base_sum,
            overruled=core.overruled + 1,
        )

    def _core_overrulings(self, core: SentinelCore) -> dict[str, object]:
        return {
            "overruled": core.overruled,
            "floor_bad": core.floor_bad,
            "floor_moderate": core.floor_moderate,
            "overruled_level": core.overruled_level,
        }

    def _core_with_overrulings(self, core: SentinelCore, data: object) -> SentinelCore:
        """The raised bar of an overruled print, back after a restart or reload."""
        if not isinstance(data, dict):
            return core
        return replace(
            core,
            overruled=int(bounded(data.get("overruled"), MAX_OVERRULINGS)),
            floor_bad=bounded(data.get("floor_bad"), self.tuning.max_bad_base_rate),
            floor_moderate=bounded(data.get("floor_moderate"), 0.45),
            overruled_level=bounded(data.get("overruled_level"), 100.0),
        )

    def learn(
        self, baseline: PrinterBaseline | None, state: PolicyState
    ) -> PrinterBaseline:
        """Fold this print's own rates (without the prior) into the printer's."""
        counted = super().learn(baseline, state)
        core = state.core
        if not isinstance(core, SentinelCore) or core.base_count < 1.0:
            return counted
        previous = baseline or PrinterBaseline()
        weight = 1.0 / min(previous.prints + 1, PRINTER_MEMORY)

        def fold(old: float, new: float) -> float:
            return old + weight * (new - old)

        return replace(
            counted,
            mean=fold(previous.mean, core.base_sum / core.base_count),
            high_rate=fold(previous.high_rate, core.base_bad / core.base_count),
            elevated_rate=fold(
                previous.elevated_rate, core.base_moderate / core.base_count
            ),
        )
