"""Turn a stream of detector verdicts into ok / warning / failure decisions.

Pure functions over immutable states (no Home Assistant, no I/O, no clock): the
shared mechanics live in `framework`, the default in `sentinel`, and the published
rules the benchmarks compare it with in `anchors`.

Policies (`POLICIES`): the default `sentinel`, and four anchors that replay
published rules: `two_yes`, `printwatch`, `gadget` and `obico`.

Use::

    policy = make_policy("sentinel", sensitivity="medium", resume_grace=300)
    state = policy.on_new_print(now, baseline=printer_baseline)
    state, decision = policy.step(state, verdict, now)  # or NoVerdict.from_error(err)
    state = policy.on_resume(state, now, own_pause=True)  # the user resumed our pause
    state = policy.on_false_alarm(state, now)  # the user says the alarm was false
    printer_baseline = policy.learn(printer_baseline, state)  # a print ended well
"""

from __future__ import annotations

from typing import Final, Protocol

from ...const import DEFAULT_POLICY, DEFAULT_RESUME_GRACE, DEFAULT_SENSITIVITY
from .anchors import (
    GadgetCore,
    GadgetPolicy,
    ObicoCore,
    ObicoPolicy,
    PrintWatchCore,
    PrintWatchPolicy,
    TwoYesCore,
    TwoYesPolicy,
)
from .framework import (
    NO_VERDICT,
    SENSITIVITIES,
    BasePolicy,
    Decision,
    NoVerdict,
    Observation,
    Policy,
    PolicyCore,
    PolicyState,
    PrinterBaseline,
    policy_state_as_dict,
)
from .sentinel import SENTINEL_TUNING, SentinelCore, SentinelPolicy, SentinelTuning

__all__ = [
    "NO_VERDICT",
    "POLICIES",
    "SENSITIVITIES",
    "SENTINEL_TUNING",
    "BasePolicy",
    "Decision",
    "GadgetCore",
    "GadgetPolicy",
    "NoVerdict",
    "ObicoCore",
    "ObicoPolicy",
    "Observation",
    "Policy",
    "PolicyCore",
    "PolicyState",
    "PrintWatchCore",
    "PrintWatchPolicy",
    "PrinterBaseline",
    "SentinelCore",
    "SentinelPolicy",
    "SentinelTuning",
    "TwoYesCore",
    "TwoYesPolicy",
    "make_policy",
    "policy_state_as_dict",
]

POLICIES: Final[tuple[str, ...]] = (
    SentinelPolicy.name,
    TwoYesPolicy.name,
    PrintWatchPolicy.name,
    GadgetPolicy.name,
    ObicoPolicy.name,
)
"""Policy names, the default first."""


class _Factory(Protocol):
    """How a policy class is built."""

    def __call__(self, *, sensitivity: str, resume_grace: float) -> Policy:
        """Build the policy."""


_CLASSES: Final[dict[str, _Factory]] = {
    SentinelPolicy.name: SentinelPolicy,
    TwoYesPolicy.name: TwoYesPolicy,
    PrintWatchPolicy.name: PrintWatchPolicy,
    GadgetPolicy.name: GadgetPolicy,
    ObicoPolicy.name: ObicoPolicy,
}


def make_policy(
    name: str = DEFAULT_POLICY,
    sensitivity: str = DEFAULT_SENSITIVITY,
    resume_grace: float = DEFAULT_RESUME_GRACE,
) -> Policy:
    """Build a named policy. Raises ValueError for an unknown name or sensitivity."""
    cls = _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown policy {name!r}")
    return cls(sensitivity=sensitivity, resume_grace=resume_grace)
