"""The replay times checks as the integration's monitor does."""

from __future__ import annotations

import pytest

from benchmarks import corpus, replay
from custom_components.print_sentinel.detection.policy import Decision, make_policy
from custom_components.print_sentinel.detection.scheduler import (
    MIN_CHECK_INTERVAL,
    next_check_delay,
)
from custom_components.print_sentinel.detection.verdict import Verdict


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def test_without_a_delay_sent_the_paced_checks_are_the_stream() -> None:
    kind = corpus.kind_named(corpus.KINDS[0].name)
    fixed = corpus.stream(kind, 3, 20.0, "graded").checks
    assert tuple(corpus.paced(kind, 3, 20.0, "graded")) == fixed


def test_a_suspicious_verdict_brings_the_next_check_forward() -> None:
    failures = [k for k in corpus.KINDS if k.group == corpus.FAILURE]
    policy = make_policy("sentinel")
    checks = corpus.paced(failures[0], 0, 30.0, "binary")
    state = policy.on_new_print(0.0)
    now, observation = next(checks)
    gaps: list[float] = []
    while True:
        state, decision = policy.step(state, observation, now)
        delay = (
            next_check_delay(30.0, decision, observation)
            if isinstance(observation, Verdict)
            else None
        )
        try:
            later, observation = checks.send(delay)
        except StopIteration:
            break
        gaps.append(round(later - now, 6))
        now = later
        if decision is Decision.FAILURE:
            break
    assert set(gaps) <= {30.0, max(MIN_CHECK_INTERVAL, 15.0)}
    assert 15.0 in gaps  # the failure was checked at half the interval


def test_the_replay_pauses_sooner_when_paced_than_at_a_fixed_interval() -> None:
    failures = [k for k in corpus.KINDS if k.group == corpus.FAILURE][:6]
    policy = make_policy("sentinel")
    paced, fixed = replay.Tally(), replay.Tally()
    for kind in failures:
        for seed in range(4):
            item = corpus.stream(kind, seed, 30.0, "binary")
            paced.add(replay.simulate(policy, item, paced=True))
            fixed.add(replay.simulate(policy, item))
    assert sum(x for x in paced.failures if x is not None) < sum(
        x for x in fixed.failures if x is not None
    )
