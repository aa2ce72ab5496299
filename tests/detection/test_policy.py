"""Tests for the decision policies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
import json
import math
from typing import cast

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.print_sentinel.detection.policy import (
    NO_VERDICT,
    POLICIES,
    SENSITIVITIES,
    SENTINEL_TUNING,
    Decision,
    NoVerdict,
    ObicoCore,
    Observation,
    Policy,
    PolicyState,
    PrinterBaseline,
    SentinelCore,
    SentinelPolicy,
    make_policy,
    policy_state_as_dict,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorRateLimited,
    FailureKind,
    Verdict,
)

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    # The autouse Home Assistant fixture is irrelevant to these pure functions.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def verdict(
    score: float,
    *,
    warning: bool = False,
    pause: bool = False,
    kind: FailureKind | None = None,
) -> Verdict:
    """Build a verdict as a detector would return it."""
    if kind is None:
        kind = FailureKind.SPAGHETTI if score >= 50 else FailureKind.NONE
    return Verdict(
        failure_score=score,
        print_quality=None,
        warning=warning,
        pause=pause,
        kind=kind,
        reason="test",
        detector="test",
        latency_ms=1.0,
    )


def run(
    policy: Policy, state: PolicyState, steps: Iterable[tuple[float, Observation]]
) -> tuple[PolicyState, list[Decision]]:
    """Feed timed observations through a policy; return the state and decisions."""
    decisions: list[Decision] = []
    for now, observation in steps:
        state, decision = policy.step(state, observation, now)
        decisions.append(decision)
    return state, decisions


def every(
    interval: float, observations: Sequence[Observation], start: float = 0.0
) -> list[tuple[float, Observation]]:
    """Space observations `interval` seconds apart, the first at start + interval."""
    return [(start + interval * (i + 1), obs) for i, obs in enumerate(observations)]


def scores(*values: float | None) -> list[Observation]:
    """Verdicts with these failure scores (None for an errored check)."""
    return [NO_VERDICT if v is None else verdict(v) for v in values]


# --- strategies ----------------------------------------------------------------

observations = st.one_of(
    st.builds(
        verdict,
        st.floats(min_value=0, max_value=100),
        warning=st.booleans(),
        pause=st.booleans(),
    ),
    st.just(NO_VERDICT),
)
policy_names = st.sampled_from(POLICIES)
sensitivities = st.sampled_from(SENSITIVITIES)


@st.composite
def timed_stream(
    draw: st.DrawFn,
    items: st.SearchStrategy[Observation] = observations,
    min_interval: float = 0.0,
    max_interval: float = 900.0,
    max_size: int = 60,
) -> list[tuple[float, Observation]]:
    """Observations at increasing, irregular times starting after t=0."""
    stream = draw(st.lists(items, max_size=max_size))
    now = 0.0
    out: list[tuple[float, Observation]] = []
    for obs in stream:
        now += draw(st.floats(min_value=min_interval, max_value=max_interval))
        out.append((now, obs))
    return out


# --- the registry ----------------------------------------------------------------


def test_policies_list_the_default_first() -> None:
    assert POLICIES[0] == "sentinel"
    assert set(POLICIES) == {"sentinel", "two_yes", "printwatch", "gadget", "obico"}
    for name in POLICIES:
        policy = make_policy(name)
        assert policy.name == name
        assert policy.sensitivity == "medium"
        assert policy.resume_grace == 300


def test_make_policy_rejects_unknown_names_and_settings() -> None:
    with pytest.raises(ValueError, match="policy"):
        make_policy("magic")
    with pytest.raises(ValueError, match="sensitivity"):
        make_policy("sentinel", sensitivity="paranoid")
    with pytest.raises(ValueError, match="grace"):
        make_policy("sentinel", resume_grace=-1)


def test_a_state_of_another_policy_is_refused() -> None:
    state = make_policy("two_yes").initial_state()
    with pytest.raises(TypeError):
        make_policy("sentinel").step(state, verdict(0), 1.0)
    with pytest.raises(TypeError):
        make_policy("obico").on_resume(state, 1.0)


def test_decision_levels_order_severity() -> None:
    assert Decision.OK.level < Decision.WARNING.level < Decision.FAILURE.level


def test_no_verdict_names_the_error() -> None:
    assert NoVerdict.from_error(DetectorRateLimited("slow down")).reason == (
        "DetectorRateLimited"
    )


def test_state_as_dict_is_json_friendly() -> None:
    policy = make_policy("sentinel")
    state, _ = run(
        policy,
        policy.on_new_print(0),
        every(20, scores(10, 90, None), start=300),
    )
    data = policy_state_as_dict(state)
    assert json.loads(json.dumps(data)) == data
    assert data["policy"] == "sentinel"
    assert data["decision"] == state.decision.value
    assert data["errors"] == 1
    core = cast(dict[str, object], data["core"])
    assert core["kind"] == "spaghetti"
    assert core["hits"] == 1


# --- two_yes ---------------------------------------------------------------------


def test_two_yes_warns_on_one_yes_and_fails_on_two_in_a_row() -> None:
    policy = make_policy("two_yes")
    _, decisions = run(policy, policy.on_new_print(0), every(200, scores(10, 50, 80)))
    assert decisions == [Decision.OK, Decision.WARNING, Decision.FAILURE]


def test_two_yes_needs_the_yes_answers_consecutive() -> None:
    policy = make_policy("two_yes")
    _, decisions = run(
        policy, policy.on_new_print(0), every(200, scores(90, 49.9, 90, 10, 90))
    )
    assert Decision.FAILURE not in decisions
    assert decisions[1] is Decision.OK


def test_two_yes_errors_hold_the_streak() -> None:
    policy = make_policy("two_yes")
    _, decisions = run(policy, policy.on_new_print(0), every(200, scores(90, None, 90)))
    assert decisions == [Decision.WARNING, Decision.WARNING, Decision.FAILURE]


# --- printwatch ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positives", "expected"),
    [
        (9, Decision.OK),  # 56 %
        (10, Decision.WARNING),  # 62.5 %
        (12, Decision.WARNING),  # 75 %
        (13, Decision.FAILURE),  # 81 %
        (16, Decision.FAILURE),
    ],
)
def test_printwatch_acts_on_the_share_of_positives_in_16(
    positives: int, expected: Decision
) -> None:
    policy = make_policy("printwatch")
    stream = scores(*([10.0] * (16 - positives) + [75.0] * positives))
    _, decisions = run(policy, policy.on_new_print(0), every(10, stream))
    assert decisions[-1] is expected


def test_printwatch_waits_for_a_full_buffer() -> None:
    policy = make_policy("printwatch")
    _, decisions = run(policy, policy.on_new_print(0), every(10, scores(*[95.0] * 16)))
    assert decisions[:15] == [Decision.OK] * 15
    assert decisions[15] is Decision.FAILURE


def test_printwatch_errors_do_not_fill_the_buffer() -> None:
    policy = make_policy("printwatch")
    stream = scores(*[95.0] * 15) + [NO_VERDICT] * 5
    state, decisions = run(policy, policy.on_new_print(0), every(10, stream))
    assert Decision.FAILURE not in decisions
    _, decision = policy.step(state, verdict(95), 500)
    assert decision is Decision.FAILURE


def test_printwatch_buffer_slides() -> None:
    policy = make_policy("printwatch")
    stream = scores(*([95.0] * 12 + [5.0] * 4 + [5.0] * 4))
    _, decisions = run(policy, policy.on_new_print(0), every(10, stream))
    assert decisions[15] is Decision.WARNING  # 12/16
    assert decisions[-1] is Decision.OK  # 8/16


# --- gadget ----------------------------------------------------------------------


def test_gadget_follows_the_detectors_suggestions() -> None:
    policy = make_policy("gadget")
    stream: list[Observation] = [
        verdict(90),  # a high score alone is not a suggestion
        verdict(40, warning=True),
        verdict(20),
        verdict(60, warning=True, pause=True),
    ]
    _, decisions = run(policy, policy.on_new_print(0), every(60, stream))
    assert decisions == [Decision.OK, Decision.WARNING, Decision.OK, Decision.FAILURE]


# --- obico -----------------------------------------------------------------------


@dataclass
class _ObicoReference:
    """Obico's `PrinterPrediction` and functions, transcribed from the source."""

    current_frame_num: int = 0
    lifetime_frame_num: int = 0
    ewm_mean: float = 0.0
    rolling_mean_short: float = 0.0
    rolling_mean_long: float = 0.0

    def update(self, p: float) -> None:
        def next_rolling_mean(p: float, mean: float, count: int, win: int) -> float:
            return mean + (p - mean) / float(win if win <= count else count + 1)

        alpha = 2 / (12 + 1)
        self.current_frame_num += 1
        self.lifetime_frame_num += 1
        self.ewm_mean = p * alpha + self.ewm_mean * (1 - alpha)
        self.rolling_mean_short = next_rolling_mean(
            p, self.rolling_mean_short, self.current_frame_num, 310
        )
        self.rolling_mean_long = next_rolling_mean(
            p, self.rolling_mean_long, self.lifetime_frame_num, 7200
        )

    def is_failing(self, sensitivity: float, escalating_factor: float = 1) -> bool:
        if self.current_frame_num < 30:
            return False
        adjusted = (
            (self.ewm_mean - self.rolling_mean_long) * sensitivity / escalating_factor
        )
        if adjusted < 0.38:
            return False
        if adjusted > 0.78:
            return True
        return adjusted > (self.rolling_mean_short - self.rolling_mean_long) * 3.8


@PROPERTY_SETTINGS
@given(
    sensitivity=sensitivities,
    history=st.lists(st.floats(min_value=0, max_value=1), max_size=40),
    stream=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=120),
)
def test_obico_matches_the_published_rule(
    sensitivity: str, history: list[float], stream: list[float]
) -> None:
    reference = _ObicoReference()
    policy = make_policy("obico", sensitivity=sensitivity)
    state = policy.on_new_print(0)
    for i, p in enumerate(history):
        reference.update(p)
        state, _ = policy.step(state, verdict(p * 100), i + 1.0)
    # a new print keeps the printer's lifetime frame count and long mean
    reference.current_frame_num = 0
    reference.ewm_mean = reference.rolling_mean_short = 0.0
    state = policy.on_new_print(1000, previous=state)
    detective = {"low": 0.8, "medium": 1.0, "high": 1.2}[sensitivity]
    for i, p in enumerate(stream):
        reference.update(p)
        state, decision = policy.step(state, verdict(p * 100), 1000 + i + 1.0)
        if reference.is_failing(detective, 1.75):
            expected = Decision.FAILURE
        elif reference.is_failing(detective):
            expected = Decision.WARNING
        else:
            expected = Decision.OK
        assert decision is expected
        if decision is Decision.FAILURE:
            break
        core = state.core
        assert isinstance(core, ObicoCore)
        assert core.ewm_mean == pytest.approx(reference.ewm_mean)
        assert core.rolling_mean_long == pytest.approx(reference.rolling_mean_long)


def obico_printer(policy: Policy, start: float = 10_000) -> PolicyState:
    """A new print on a printer with 400 clean frames of history."""
    state, _ = run(policy, policy.on_new_print(0), every(20, scores(*[5.0] * 400)))
    return policy.on_new_print(start, previous=state)


def test_obico_ignores_the_first_30_frames() -> None:
    policy = make_policy("obico")
    state = obico_printer(policy)
    _, decisions = run(policy, state, every(20, scores(*[100.0] * 40), start=10_000))
    assert decisions[:29] == [Decision.OK] * 29
    assert decisions[29] is not Decision.OK


def test_obico_warns_before_it_pauses_at_175x_the_alert_level() -> None:
    policy = make_policy("obico")
    stream = scores(*[5.0] * 150, *[90.0] * 40)
    _, decisions = run(policy, obico_printer(policy), every(20, stream, start=10_000))
    first_warning = decisions.index(Decision.WARNING)
    first_failure = decisions.index(Decision.FAILURE)
    assert 150 < first_warning < first_failure


def test_obico_sensitivity_scales_the_level() -> None:
    def first_alert(sensitivity: str) -> int:
        policy = make_policy("obico", sensitivity=sensitivity)
        stream = scores(*[5.0] * 60, *[70.0] * 40)
        _, decisions = run(
            policy, obico_printer(policy), every(20, stream, start=10_000)
        )
        return next(i for i, d in enumerate(decisions) if d is not Decision.OK)

    assert first_alert("high") < first_alert("medium") < first_alert("low")


def test_obico_without_history_cancels_a_failure_from_the_start() -> None:
    # Without printer history the long mean is the print's own mean: a print that
    # looks failed from its first frame never stands out (a faithful quirk).
    policy = make_policy("obico")
    _, decisions = run(policy, policy.on_new_print(0), every(20, scores(*[95.0] * 60)))
    assert Decision.FAILURE not in decisions


# --- sentinel --------------------------------------------------------------------

MEDIUM = SENTINEL_TUNING["medium"]
WARM = 900.0
"""A time well past the quiet period and the baseline's warm-up."""


def warm_print(
    policy: Policy,
    *,
    interval: float = 20.0,
    until: float = WARM,
    score: float = 8.0,
    baseline: PrinterBaseline | None = None,
) -> PolicyState:
    """A print that has looked fine from its start until `until`."""
    state = policy.on_new_print(0, baseline=baseline)
    steps = int(until // interval)
    state, decisions = run(policy, state, every(interval, scores(*[score] * steps)))
    assert Decision.FAILURE not in decisions
    return state


def first_failure(
    policy: Policy, state: PolicyState, steps: Iterable[tuple[float, Observation]]
) -> float | None:
    """When the first failure is decided, if it is."""
    for now, observation in steps:
        state, decision = policy.step(state, observation, now)
        if decision is Decision.FAILURE:
            return now
    return None


def kinds(*names: FailureKind, score: float) -> list[Observation]:
    """Verdicts of `score` naming these kinds in turn."""
    return [verdict(score, kind=name) for name in names]


@pytest.mark.parametrize("interval", [10.0, 20.0, 30.0])
def test_sentinel_pauses_a_sudden_failure_on_the_third_bad_frame(
    interval: float,
) -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy, interval=interval)
    failed = first_failure(
        policy, state, every(interval, scores(*[92.0] * 6), start=WARM)
    )
    # the first bad frame at WARM + interval; the third at least, and the first
    # check once the bad frames span `acute_span`
    checks = max(2, math.ceil(MEDIUM.acute_span / interval))
    assert failed == WARM + interval + checks * interval
    # at the benchmark's 20 s: a sudden failure within a minute of the first frame
    if interval == 20.0:
        assert failed is not None and failed - WARM <= 60


def test_sentinel_sensitivity_orders_speed() -> None:
    when = {}
    for sensitivity in SENSITIVITIES:
        policy = make_policy("sentinel", sensitivity=sensitivity)
        state = warm_print(policy)
        when[sensitivity] = first_failure(
            policy, state, every(20, scores(*[90.0] * 8), start=WARM)
        )
    assert when["high"] is not None and when["medium"] is not None
    assert when["low"] is not None
    assert when["high"] < when["medium"] < when["low"]


def test_sentinel_ignores_a_single_bad_frame_even_with_a_pause_suggestion() -> None:
    policy = make_policy("sentinel", sensitivity="high")
    state = warm_print(policy)
    stream = [verdict(10), verdict(100, warning=True, pause=True), verdict(10)]
    _, decisions = run(policy, state, every(20, stream, start=WARM))
    assert Decision.FAILURE not in decisions
    assert decisions[1] is Decision.WARNING


@pytest.mark.parametrize("interval", [10.0, 20.0, 30.0])
@pytest.mark.parametrize("seconds", [20.0, 30.0, 40.0])
def test_sentinel_does_not_pause_for_a_hand_in_view(
    interval: float, seconds: float
) -> None:
    # a hand for 20-40 s: every check while it is there scores 95
    policy = make_policy("sentinel")
    state = warm_print(policy, interval=interval)
    hand = int(seconds // interval)
    stream = scores(*[95.0] * hand, *[8.0] * 10)
    assert first_failure(policy, state, every(interval, stream, start=WARM)) is None


def test_sentinel_an_error_never_joins_two_hits() -> None:
    policy = make_policy("sentinel", sensitivity="high")  # two hits can pause
    state = warm_print(policy)
    # hit, error, hit, then good: the error is no hit, and the hits are 40 s apart
    stream = scores(95, None, 95, 8, 8, 8)
    joined = first_failure(policy, state, every(20, stream, start=WARM))
    together = first_failure(policy, state, every(20, scores(95, 95), start=WARM))
    assert together is not None  # at high, two hits in a row do pause
    _, decisions = run(policy, state, every(20, stream, start=WARM))
    assert decisions[1] is not Decision.FAILURE  # an error never adds evidence
    assert joined is None or joined >= WARM + 60  # and never completes a pair
    # at medium, hit-error-hit-error is never a failure
    medium = make_policy("sentinel")
    state = warm_print(medium)
    assert (
        first_failure(
            medium, state, every(20, scores(95, None, 95, None, 8, 8), start=WARM)
        )
        is None
    )


def test_sentinel_learns_a_clip_that_shows_in_one_frame_of_five() -> None:
    policy = make_policy("sentinel")
    clip = [85.0 if i % 5 == 0 else 8.0 for i in range(150)]
    state, decisions = run(policy, policy.on_new_print(0), every(20, scores(*clip)))
    assert Decision.FAILURE not in decisions
    core = state.core
    assert isinstance(core, SentinelCore)
    assert core.base_bad_rate > 0.1
    now = 20.0 * len(clip)
    # three clear hits in a row now are no evidence of a failure on this camera...
    three = scores(90, 90, 90, 8, 8, 90, 8, 8, 8, 8)
    assert first_failure(policy, state, every(20, three, start=now)) is None
    # ...but on a clean camera they are
    clean = warm_print(policy, until=now)
    assert first_failure(policy, clean, every(20, three, start=now)) is not None
    # and a failure that stays still pauses the clip camera
    assert first_failure(policy, state, every(20, scores(*[92.0] * 12), start=now))


def test_sentinel_leaves_a_clip_in_one_frame_of_three_alone_all_print_long() -> None:
    """A bed clip the detector flags in a third of the frames from the start,
    naming a kind drawn at random each time (blob, spaghetti, detachment, other),
    through 40 two-hour prints: once the baseline has seen it for a quarter of an
    hour it never pauses. (The chronic span used to stay alive while the share
    hovered at the clip's rate, and five chance blobs of eight counted as one
    specific kind: 26 of these 40 prints were paused, most after the first hour.)
    Three chance hits in a row before the baseline knows the clip still can."""
    import random

    policy = make_policy("sentinel")
    pool = (
        FailureKind.SPAGHETTI,
        FailureKind.BLOB,
        FailureKind.OTHER,
        FailureKind.DETACHMENT,
    )
    early = 0
    for seed in range(40):
        rng = random.Random(seed)
        stream: list[Observation] = [
            verdict(rng.uniform(80, 92), kind=rng.choice(pool))
            if rng.random() < 1 / 3
            else verdict(rng.uniform(0, 12))
            for _ in range(360)
        ]
        failed = first_failure(policy, policy.on_new_print(0.0), every(20, stream))
        assert failed is None or failed < 900.0, (seed, failed)
        early += failed is not None
    assert early <= 4
    # a failure that stays still pauses a print
    state, _ = run(policy, policy.on_new_print(0.0), every(20, scores(*[8.0] * 90)))
    assert first_failure(policy, state, every(20, scores(*[92.0] * 12), start=1800.0))


def test_sentinel_kinds_that_agree_are_more_evidence() -> None:
    policy = make_policy("sentinel")
    named = warm_print(policy)
    # a detector that names kinds (two different ones before)
    named, _ = run(
        policy,
        named,
        every(20, [verdict(85, kind=FailureKind.BLOB), *scores(8, 8, 8, 8, 8)], WARM),
    )
    named, _ = run(
        policy,
        named,
        every(
            20,
            [verdict(85, kind=FailureKind.STRINGING), *scores(*[8.0] * 20)],
            WARM + 120,
        ),
    )
    start = WARM + 120 + 21 * 20
    same = kinds(*[FailureKind.DETACHMENT] * 6, score=86)
    wander = kinds(
        FailureKind.DETACHMENT,
        FailureKind.BLOB,
        FailureKind.OTHER,
        FailureKind.STRINGING,
        FailureKind.UNDER_EXTRUSION,
        FailureKind.WARPING,
        score=86,
    )
    agreeing = first_failure(policy, named, every(20, same, start=start))
    wandering = first_failure(policy, named, every(20, wander, start=start))
    assert agreeing is not None
    assert wandering is None or wandering > agreeing


def test_sentinel_pauses_a_subtle_failure_that_stays_within_ten_minutes() -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy)
    shift = kinds(*[FailureKind.LAYER_SHIFT] * 30, score=57)
    named = first_failure(policy, state, every(20, shift, start=WARM))
    kindless = first_failure(policy, state, every(20, scores(*[57.0] * 30), WARM))
    assert named is not None and kindless is not None
    assert named - WARM <= 240  # one specific failure named again and again
    assert kindless - WARM <= 600
    assert named < kindless


def test_sentinel_leaves_a_plateau_with_wandering_kinds_alone_for_minutes() -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy)
    cycle = (
        FailureKind.UNDER_EXTRUSION,
        FailureKind.STRINGING,
        FailureKind.SPAGHETTI,
        FailureKind.OTHER,
    )
    infill = kinds(*(cycle * 6), score=60)  # 8 minutes of an infill pattern
    stream = [*infill, *scores(*[8.0] * 20)]
    assert first_failure(policy, state, every(20, stream, start=WARM)) is None


def test_sentinel_a_growing_failure_pauses_sooner_than_a_plateau() -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy)
    # 46 to 79 in under 4 minutes: never a bad frame, only ever more moderate ones
    ramp = scores(*[min(79.0, 46.0 + 3.0 * i) for i in range(30)])
    plateau = scores(*[60.0] * 30)
    grown = first_failure(policy, state, every(20, ramp, start=WARM))
    flat = first_failure(policy, state, every(20, plateau, start=WARM))
    assert grown is not None and flat is not None
    assert grown < flat
    # without the growth rule, the ramp would take longer than the plateau
    still = SentinelPolicy(
        sensitivity="medium", resume_grace=300, tuning=replace(MEDIUM, growth=1e9)
    )
    blind = first_failure(still, warm_print(still), every(20, ramp, start=WARM))
    assert blind is not None and blind > grown


@PROPERTY_SETTINGS
@given(
    level=st.floats(min_value=45, max_value=80),
    noise=st.lists(st.floats(min_value=-5, max_value=5), min_size=5, max_size=60),
)
def test_sentinel_a_plateau_is_never_growth(level: float, noise: list[float]) -> None:
    # the step from a clean print onto a plateau, and its noise, are no growth
    policy = SentinelPolicy(sensitivity="medium", resume_grace=300)
    state = warm_print(policy)
    plateau = scores(*[level + n for n in noise])
    for now, observation in every(20, plateau, start=WARM):
        state, _ = policy.step(state, observation, now)
        core = state.core
        assert isinstance(core, SentinelCore)
        assert policy.growth(core) < MEDIUM.growth


def test_sentinel_start_of_print_counts_half_and_cannot_pause() -> None:
    policy = make_policy("sentinel")
    quiet = MEDIUM.quiet_period
    # a purge line that scores high for the first three minutes, then a clean print
    purge = [*[90.0] * (180 // 20), *[8.0] * 20]
    _, decisions = run(policy, policy.on_new_print(0), every(20, scores(*purge)))
    assert Decision.FAILURE not in decisions
    assert Decision.WARNING not in decisions[: int(quiet // 20) - 1]
    # a detachment in the first minutes is paused soon after the quiet period
    early = [*[8.0] * 6, *[92.0] * 20]
    failed = first_failure(policy, policy.on_new_print(0), every(20, scores(*early)))
    assert failed is not None
    assert quiet <= failed <= quiet + 60


def test_sentinel_without_a_known_start_has_no_quiet_period() -> None:
    policy = make_policy("sentinel")
    _, decisions = run(
        policy, policy.initial_state(), every(20, scores(95, 95, 95, 95))
    )
    assert decisions[-1] is Decision.FAILURE


@pytest.mark.parametrize("name", POLICIES)
def test_a_print_found_running_started_before_it_was_seen(name: str) -> None:
    policy = make_policy(name)
    assert policy.on_new_print(1000.0).print_started_at == 1000.0
    assert policy.on_new_print(1000.0, age=1800.0).print_started_at == -800.0
    assert policy.on_new_print(1000.0, age=None).print_started_at is None
    for nonsense in (-5.0, math.nan, math.inf):
        assert policy.on_new_print(1000.0, age=nonsense).print_started_at == 1000.0


def test_sentinel_a_print_found_running_is_not_in_its_first_minutes() -> None:
    # found 30 min in (a restart), or its age unknown: failing now is failing
    policy = make_policy("sentinel")
    failing = every(20, scores(*[95.0] * 6), start=1000.0)
    for age in (1800.0, None):
        _, decisions = run(policy, policy.on_new_print(1000.0, age=age), failing)
        assert Decision.FAILURE in decisions
    # the same minute of a print that just started is its quiet period
    _, decisions = run(policy, policy.on_new_print(1000.0, age=5.0), failing)
    assert Decision.FAILURE not in decisions


def test_sentinel_resuming_its_own_pause_raises_the_bar_for_that_evidence() -> None:
    policy = make_policy("sentinel", resume_grace=300)
    state = warm_print(policy)
    plateau = scores(*[60.0] * 30)
    failed_at = first_failure(policy, state, every(20, plateau, start=WARM))
    assert failed_at is not None
    state, _ = run(
        policy, state, every(20, plateau[: int((failed_at - WARM) // 20)], WARM)
    )
    assert state.latched
    resumed = policy.on_resume(state, failed_at + 60, own_pause=True)
    assert resumed.own_pause_resumes == 1
    core = resumed.core
    assert isinstance(core, SentinelCore)
    assert core.overruled == 1
    after = failed_at + 60 + 300
    # the same plateau, still in view, for 20 more minutes: no pause
    again = first_failure(policy, resumed, every(20, scores(*[60.0] * 60), after))
    assert again is None
    # a failure that looks clearly worse still pauses
    assert first_failure(policy, resumed, every(20, scores(*[95.0] * 20), after))


def test_sentinel_a_resume_that_overrules_nothing_keeps_the_bar() -> None:
    policy = make_policy("sentinel", resume_grace=0)
    state = warm_print(policy)
    state, _ = run(policy, state, every(20, scores(95, 95, 95), start=WARM))
    assert state.latched
    resumed = policy.on_resume(state, WARM + 100)  # the user had paused it
    core = resumed.core
    assert isinstance(core, SentinelCore)
    assert core.overruled == 0
    assert core.acute == 0.0
    failed = first_failure(policy, resumed, every(20, scores(95, 95, 95), WARM + 100))
    assert failed == WARM + 160


def test_sentinel_a_false_alarm_raises_the_bar_like_an_own_pause() -> None:
    policy = make_policy("sentinel", resume_grace=0)
    state = warm_print(policy)
    state, decisions = run(policy, state, every(20, scores(95, 95), start=WARM))
    assert decisions[-1] is Decision.WARNING
    state = policy.on_false_alarm(state, WARM + 40)
    assert state.false_alarms == 1
    assert state.decision is Decision.OK
    core = state.core
    assert isinstance(core, SentinelCore)
    assert core.overruled == 1
    fresh = warm_print(policy, until=WARM + 40)
    bad = scores(*[95.0] * 12)
    raised = first_failure(policy, state, every(20, bad, start=WARM + 40))
    normal = first_failure(policy, fresh, every(20, bad, start=WARM + 40))
    assert raised is not None and normal is not None
    assert raised > normal


def test_sentinel_warning_has_hysteresis_and_goes_stale() -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy)
    state, decisions = run(policy, state, every(20, scores(95, 95), start=WARM))
    assert decisions == [Decision.OK, Decision.WARNING]
    stale = MEDIUM.stale_after
    state, decision = policy.step(state, NO_VERDICT, WARM + 40 + stale / 2)
    assert decision is Decision.WARNING
    state, decision = policy.step(state, NO_VERDICT, WARM + 40 + stale)
    assert decision is Decision.OK


def test_sentinel_rejects_a_single_frame_confirmation() -> None:
    tuning = replace(MEDIUM, min_hits=1)
    with pytest.raises(ValueError, match="two"):
        SentinelPolicy(sensitivity="medium", resume_grace=300, tuning=tuning)


def test_sentinel_takes_pause_suggestions_as_evidence() -> None:
    policy = make_policy("sentinel")
    state = warm_print(policy)
    suggested = [verdict(40, warning=True, pause=True)] * 4
    assert first_failure(policy, state, every(20, suggested, start=WARM)) is not None
    assert first_failure(policy, state, every(20, scores(40, 40, 40, 40), WARM)) is None


# --- the printer's baseline ------------------------------------------------------


def test_printer_baseline_round_trips_and_tolerates_anything() -> None:
    baseline = PrinterBaseline(
        prints=3, mean=12.5, high_rate=0.1, elevated_rate=0.2, false_alarms=2
    )
    assert PrinterBaseline.from_dict(baseline.as_dict()) == baseline
    assert json.loads(json.dumps(baseline.as_dict())) == baseline.as_dict()
    for junk in (None, [], "x", 3, {"prints": "many"}, {"mean": float("nan")}):
        assert PrinterBaseline.from_dict(junk) == PrinterBaseline()
    odd = PrinterBaseline.from_dict(
        {
            "prints": -4,
            "mean": 1e9,
            "high_rate": True,
            "elevated_rate": float("inf"),
            "false_alarms": 2.7,
            "unknown": 1,
        }
    )
    assert odd == PrinterBaseline(prints=0, mean=100.0, false_alarms=2)


@PROPERTY_SETTINGS
@given(
    data=st.dictionaries(
        st.sampled_from(
            ["prints", "mean", "high_rate", "elevated_rate", "false_alarms", "x"]
        ),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            st.booleans(),
            st.none(),
            st.text(max_size=3),
        ),
    )
)
def test_printer_baseline_from_anything_is_bounded(data: dict[str, object]) -> None:
    baseline = PrinterBaseline.from_dict(data)
    assert 0 <= baseline.prints <= 1_000_000
    assert 0.0 <= baseline.mean <= 100.0
    assert 0.0 <= baseline.high_rate <= 1.0
    assert 0.0 <= baseline.elevated_rate <= 1.0
    assert 0 <= baseline.false_alarms <= 1_000_000


def test_sentinel_learns_a_printers_baseline_across_prints() -> None:
    policy = make_policy("sentinel")
    clip = [85.0 if i % 5 == 0 else 8.0 for i in range(180)]
    baseline = None
    for _ in range(3):
        state, _ = run(
            policy, policy.on_new_print(0, baseline=baseline), every(20, scores(*clip))
        )
        baseline = policy.learn(baseline, state)
    assert baseline is not None
    assert baseline.prints == 3
    assert 0.1 < baseline.high_rate < 0.3
    assert 10 < baseline.mean < 30
    # the next print starts from it: three hits in its first minutes are no failure
    state = policy.on_new_print(0, baseline=baseline)
    assert state.baseline == baseline
    early = scores(*[8.0] * 12, 90, 90, 90, 8, 8, 8)
    assert first_failure(policy, state, every(20, early)) is None
    # a printer without that history does pause on them
    assert first_failure(policy, policy.on_new_print(0), every(20, early)) is not None


def test_learn_counts_prints_and_overrulings_for_every_policy() -> None:
    for name in POLICIES:
        policy = make_policy(name, resume_grace=0)
        state = policy.on_new_print(0)
        state, _ = run(policy, state, every(20, scores(10, 20, 10)))
        state = policy.on_false_alarm(state, 100)
        state = policy.on_resume(state, 120, own_pause=True)
        learned = policy.learn(None, state)
        assert learned.prints == 1
        assert learned.false_alarms == 2
        again = policy.learn(learned, state)
        assert again.prints == 2


@PROPERTY_SETTINGS
@given(
    stream=timed_stream(min_interval=5, max_interval=120),
    prints=st.integers(min_value=0, max_value=30),
)
def test_sentinel_learned_baselines_stay_in_range(
    stream: list[tuple[float, Observation]], prints: int
) -> None:
    policy = make_policy("sentinel")
    baseline = PrinterBaseline(prints=prints, mean=50, high_rate=0.5, elevated_rate=0.5)
    state, _ = run(policy, policy.on_new_print(0, baseline=baseline), stream)
    learned = policy.learn(baseline, state)
    assert learned.prints == prints + 1
    assert 0.0 <= learned.mean <= 100.0
    assert 0.0 <= learned.high_rate <= 1.0
    assert 0.0 <= learned.elevated_rate <= 1.0
    assert PrinterBaseline.from_dict(learned.as_dict()) == PrinterBaseline.from_dict(
        json.loads(json.dumps(learned.as_dict()))
    )


# --- shared behaviour ------------------------------------------------------------


@pytest.mark.parametrize("name", POLICIES)
def test_failure_latches_until_a_new_print(name: str) -> None:
    policy = make_policy(name)
    # obico needs printer history and a good start to see a failure at all
    state = obico_printer(policy, 2000) if name == "obico" else policy.on_new_print(0)
    bad = [verdict(5)] * 150 + [verdict(100, warning=True, pause=True)] * 40
    state, decisions = run(policy, state, every(20, bad, start=2000))
    assert Decision.FAILURE in decisions
    first = decisions.index(Decision.FAILURE)
    failed_at = state.failed_at
    good = [verdict(0)] * 20
    state, decisions = run(policy, state, every(20, good, start=6000))
    assert decisions == [Decision.FAILURE] * 20
    assert state.failed_at == failed_at == 2000 + 20 * (first + 1)
    state = policy.on_new_print(7000, previous=state)
    assert state.decision is Decision.OK
    assert not state.latched
    _, decision = policy.step(state, verdict(0), 7020)
    assert decision is Decision.OK


@pytest.mark.parametrize("name", POLICIES)
def test_resume_grace_suppresses_then_restarts_clean(name: str) -> None:
    policy = make_policy(name, resume_grace=300)
    state = policy.on_new_print(0)
    bad = [verdict(100, warning=True, pause=True)] * 60
    state, decisions = run(policy, state, every(20, bad))
    if name != "obico":  # obico never fails a print failed from its start
        assert state.latched
    state = policy.on_resume(state, 1300)
    assert state.decision is Decision.OK
    state, decisions = run(policy, state, every(20, bad[:14], start=1300))
    assert decisions == [Decision.OK] * 14
    assert state.grace_until == 1600
    # after the grace: a single bad verdict is judged from a clean state
    _, decision = policy.step(state, verdict(100, warning=True, pause=True), 1600)
    expected = policy.step(policy.initial_state(), bad[0], 1600)[1]
    assert decision is expected


def test_resume_with_zero_grace_restarts_at_once() -> None:
    policy = make_policy("two_yes", resume_grace=0)
    state, _ = run(policy, policy.on_new_print(0), every(20, scores(90, 90)))
    state = policy.on_resume(state, 100)
    assert state.grace_until is None
    _, decisions = run(policy, state, every(20, scores(90, 90), start=100))
    assert decisions == [Decision.WARNING, Decision.FAILURE]


@pytest.mark.parametrize("name", POLICIES)
def test_time_running_backwards_is_clamped(name: str) -> None:
    policy = make_policy(name)
    state = policy.initial_state()
    state, _ = policy.step(state, verdict(10), 1000)
    state, _ = policy.step(state, verdict(90), 500)
    assert state.last_seen == 1000
    assert state.last_verdict_at == 1000


# --- properties ------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(name=policy_names, sensitivity=sensitivities, stream=timed_stream())
def test_errors_never_raise_the_decision_or_move_the_evidence(
    name: str, sensitivity: str, stream: list[tuple[float, Observation]]
) -> None:
    policy = make_policy(name, sensitivity=sensitivity)
    state = policy.on_new_print(0)
    previous = Decision.OK
    for now, observation in stream:
        new_state, decision = policy.step(state, observation, now)
        if isinstance(observation, NoVerdict):
            assert decision.level <= previous.level
            assert new_state.core == state.core
        state, previous = new_state, decision


good_verdicts = st.builds(
    verdict, st.floats(min_value=0, max_value=29.9), warning=st.booleans()
)
spikes = st.builds(
    verdict,
    st.floats(min_value=30, max_value=100),
    warning=st.booleans(),
    pause=st.booleans(),
)


@st.composite
def good_stream_with_isolated_spikes(draw: st.DrawFn) -> list[Observation]:
    """Good verdicts; at least three good verdicts between spikes (errors too)."""
    out: list[Observation] = []
    since_spike = 3
    for _ in range(draw(st.integers(min_value=1, max_value=80))):
        choice = draw(st.sampled_from(["good", "good", "good", "spike", "error"]))
        if choice == "error":
            out.append(NO_VERDICT)
        elif choice == "spike" and since_spike >= 3:
            out.append(draw(spikes))
            since_spike = 0
        else:
            out.append(draw(good_verdicts))
            since_spike += 1
    return out


@PROPERTY_SETTINGS
@given(
    sensitivity=sensitivities,
    stream=good_stream_with_isolated_spikes(),
    intervals=st.lists(st.floats(min_value=5, max_value=120), min_size=80),
)
def test_sentinel_never_fails_a_good_print_with_isolated_spikes(
    sensitivity: str, stream: list[Observation], intervals: list[float]
) -> None:
    policy = make_policy("sentinel", sensitivity=sensitivity)
    times = [sum(intervals[: i + 1]) for i in range(len(stream))]
    _, decisions = run(policy, policy.on_new_print(0), zip(times, stream, strict=True))
    assert Decision.FAILURE not in decisions


@PROPERTY_SETTINGS
@given(
    sensitivity=sensitivities,
    prefix=timed_stream(items=good_verdicts, min_interval=5, max_interval=60),
    bad=timed_stream(
        items=st.one_of(
            st.builds(
                verdict,
                st.floats(min_value=80, max_value=100),
                warning=st.booleans(),
                pause=st.booleans(),
            ),
            st.just(NO_VERDICT),
        ),
        min_interval=5,
        max_interval=60,
        max_size=40,
    ),
)
def test_sentinel_fails_a_sustained_bad_stream_within_12_verdicts(
    sensitivity: str,
    prefix: list[tuple[float, Observation]],
    bad: list[tuple[float, Observation]],
) -> None:
    # within 12 verdicts, or as soon as the bad frames span the confirmation time
    policy = make_policy("sentinel", sensitivity=sensitivity)
    tuning = SENTINEL_TUNING[sensitivity]
    start = tuning.quiet_period
    state = policy.on_new_print(0)
    state, decisions = run(policy, state, [(start + t, v) for t, v in prefix])
    assert Decision.FAILURE not in decisions
    offset = start + (prefix[-1][0] if prefix else 0.0)
    verdicts = 0
    first: float | None = None
    for t, observation in bad:
        state, decision = policy.step(state, observation, offset + t)
        if not isinstance(observation, NoVerdict):
            verdicts += 1
            first = offset + t if first is None else first
        if decision is Decision.FAILURE:
            break
        if (
            verdicts >= 12
            and first is not None
            and offset + t - first >= tuning.acute_span + 60
        ):
            pytest.fail(f"no failure after {verdicts} bad verdicts")
    else:
        return
    assert verdicts >= tuning.min_hits


@PROPERTY_SETTINGS
@given(name=policy_names, sensitivity=sensitivities, stream=timed_stream())
def test_failure_latches_for_any_stream(
    name: str, sensitivity: str, stream: list[tuple[float, Observation]]
) -> None:
    policy = make_policy(name, sensitivity=sensitivity)
    _, decisions = run(policy, policy.on_new_print(0), stream)
    if Decision.FAILURE in decisions:
        first = decisions.index(Decision.FAILURE)
        assert set(decisions[first:]) == {Decision.FAILURE}


@PROPERTY_SETTINGS
@given(
    name=policy_names,
    sensitivity=sensitivities,
    before=timed_stream(max_size=30),
    after=timed_stream(max_size=30),
)
def test_new_print_forgets_the_last_print(
    name: str,
    sensitivity: str,
    before: list[tuple[float, Observation]],
    after: list[tuple[float, Observation]],
) -> None:
    policy = make_policy(name, sensitivity=sensitivity)
    old, _ = run(policy, policy.on_new_print(0), before)
    start = 100_000.0
    shifted = [(start + t, obs) for t, obs in after]
    carried, carried_decisions = run(
        policy, policy.on_new_print(start, previous=old), shifted
    )
    fresh, fresh_decisions = run(policy, policy.on_new_print(start), shifted)
    if name == "obico":
        # only printer-level memory survives: the frame count of this print restarts
        core = carried.core
        assert isinstance(core, ObicoCore)
        assert core.current_frame_num == sum(
            not isinstance(obs, NoVerdict) for _, obs in after
        )
    else:
        assert carried_decisions == fresh_decisions
        assert carried == fresh


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from([p for p in POLICIES if p not in {"obico", "sentinel"}]),
    sensitivity=sensitivities,
    grace=st.floats(min_value=1, max_value=900),
    before=timed_stream(max_size=30, max_interval=60),
    during=st.lists(observations, max_size=20),
    after=timed_stream(max_size=30),
)
def test_resume_grace_suppresses_then_behaves_like_a_clean_start(
    name: str,
    sensitivity: str,
    grace: float,
    before: list[tuple[float, Observation]],
    during: list[Observation],
    after: list[tuple[float, Observation]],
) -> None:
    policy = make_policy(name, sensitivity=sensitivity, resume_grace=grace)
    state, _ = run(policy, policy.on_new_print(0), before)
    resumed_at = 2000.0  # after any quiet period
    state = policy.on_resume(state, resumed_at)
    times = [resumed_at + grace * i / (len(during) + 1) for i in range(len(during))]
    state, decisions = run(policy, state, zip(times, during, strict=True))
    assert set(decisions) <= {Decision.OK}
    end = resumed_at + grace
    shifted = [(end + t, obs) for t, obs in after]
    _, resumed_decisions = run(policy, state, shifted)
    _, clean_decisions = run(policy, policy.initial_state(), shifted)
    assert resumed_decisions == clean_decisions


@PROPERTY_SETTINGS
@given(
    name=policy_names,
    sensitivity=sensitivities,
    stream=st.lists(
        st.tuples(st.floats(min_value=0, max_value=10_000), observations), max_size=50
    ),
)
def test_irregular_and_backward_times_equal_their_running_maximum(
    name: str, sensitivity: str, stream: list[tuple[float, Observation]]
) -> None:
    policy = make_policy(name, sensitivity=sensitivity)
    state, decisions = run(policy, policy.initial_state(), stream)
    running: list[tuple[float, Observation]] = []
    latest = 0.0
    for now, obs in stream:
        latest = max(latest, now)
        running.append((latest, obs))
    monotonic_state, monotonic_decisions = run(policy, policy.initial_state(), running)
    assert decisions == monotonic_decisions
    assert state == monotonic_state
    if isinstance(state.core, SentinelCore):
        assert state.core.acute >= 0
        assert 0 <= state.core.chronic <= 1


@PROPERTY_SETTINGS
@given(
    sensitivity=sensitivities,
    before=timed_stream(min_interval=10, max_interval=40, max_size=40),
    after=timed_stream(min_interval=10, max_interval=40, max_size=60),
)
def test_sentinel_an_overruled_pause_never_makes_it_pause_sooner(
    sensitivity: str,
    before: list[tuple[float, Observation]],
    after: list[tuple[float, Observation]],
) -> None:
    # the same print, resumed at the same time: once as the user saying "that was
    # no failure" (our own pause resumed), once as a plain resume
    policy = make_policy("sentinel", sensitivity=sensitivity, resume_grace=0)
    start = SENTINEL_TUNING[sensitivity].quiet_period
    state, _ = run(policy, policy.on_new_print(0), [(start + t, v) for t, v in before])
    resumed_at = start + (before[-1][0] if before else 0.0)
    overruled = policy.on_resume(state, resumed_at, own_pause=True)
    plain = policy.on_resume(state, resumed_at, own_pause=False)
    later = [(resumed_at + t, v) for t, v in after]
    raised = first_failure(policy, overruled, later)
    normal = first_failure(policy, plain, later)
    if raised is not None:
        assert normal is not None
        assert normal <= raised
