"""What the user's word on a print taught a policy, kept on disk and read back."""

from __future__ import annotations

import json

import pytest

from custom_components.print_sentinel.detection.policy import POLICIES, make_policy
from custom_components.print_sentinel.detection.policy.framework import MAX_OVERRULINGS
from custom_components.print_sentinel.detection.verdict import FailureKind, Verdict


def _bad(score: float) -> Verdict:
    return Verdict(
        failure_score=score,
        print_quality=2,
        warning=True,
        pause=True,
        kind=FailureKind.SPAGHETTI,
        reason="",
        detector="test",
        latency_ms=0.0,
    )


@pytest.mark.parametrize("name", POLICIES)
def test_overrulings_read_back_as_they_were(name: str) -> None:
    policy = make_policy(name)
    state = policy.on_new_print(0.0, age=None)
    for t in range(1, 30):
        state, _ = policy.step(state, _bad(85.0), t * 20.0)
    state = policy.on_false_alarm(state, 600.0)
    state = policy.on_resume(state, 700.0, own_pause=True)
    data = json.loads(json.dumps(policy.overrulings(state)))  # as on disk

    fresh = policy.on_new_print(1000.0, age=None)
    back = policy.with_overrulings(fresh, data)
    assert (back.false_alarms, back.own_pause_resumes) == (1, 1)
    assert policy.overrulings(back) == policy.overrulings(state)
    assert back.checks == 0  # only the overrulings: the rest is the new state's


def test_the_raised_bar_of_sentinel_comes_back() -> None:
    policy = make_policy("sentinel")
    state = policy.on_new_print(0.0, age=None)
    for t in range(1, 30):
        state, _ = policy.step(state, _bad(85.0), t * 20.0)
    state = policy.on_resume(state, 700.0, own_pause=True)
    back = policy.with_overrulings(
        policy.on_new_print(1000.0, age=None), policy.overrulings(state)
    )
    assert back.core.overruled == 1  # type: ignore[attr-defined]
    assert back.core.floor_bad > 0  # type: ignore[attr-defined]
    assert back.core.overruled_level > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "data",
    [None, "x", [], {"policy": "two_yes"}, {"policy": "sentinel", "core": "x"}],
)
def test_what_is_not_for_this_policy_changes_nothing(data: object) -> None:
    policy = make_policy("sentinel")
    fresh = policy.on_new_print(0.0, age=None)
    back = policy.with_overrulings(fresh, data)
    assert back.core == fresh.core
    assert (back.false_alarms, back.own_pause_resumes) == (0, 0)


def test_odd_numbers_are_bounded() -> None:
    policy = make_policy("sentinel")
    back = policy.with_overrulings(
        policy.on_new_print(0.0, age=None),
        {
            "policy": "sentinel",
            "false_alarms": float("nan"),
            "own_pause_resumes": 1e30,
            "core": {"overruled": True, "floor_bad": -1, "floor_moderate": 9},
        },
    )
    assert (back.false_alarms, back.own_pause_resumes) == (0, MAX_OVERRULINGS)
    core = back.core
    assert core.overruled == 0  # type: ignore[attr-defined]
    assert core.floor_bad == 0.0  # type: ignore[attr-defined]
    assert core.floor_moderate == 0.45  # type: ignore[attr-defined]
