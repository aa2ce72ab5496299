"""Replay scripted prints through frames -> detector -> policy -> action.

Every scenario in `benchmarks.scenarios` runs on a simulated clock with a check
every `interval` seconds (20 s by default). At each check the camera frame of that
moment is rendered with `simulators.scene.render_frame`, downscaled like the
integration does (`detection.frames.prepare_frame`), and the newest three frames go
to the real OpenAI-compatible detector client (`detectors.openai_compat`) talking
to its loopback simulator (`simulators.openai_compat`, seeded per scenario: noisy
scores, occasional false positives on good frames, HTTP 503 during outages). Each
check's verdict, or `NoVerdict` when the call failed, is fed to every contender
policy; the first `failure` is the pause.

The contenders are the default `sentinel` (at each sensitivity) and the anchors
`two_yes`, `printwatch`, `gadget` and `obico`, run as published (no resume
grace). Scenarios replay in order as consecutive prints on one printer, so
Obico's long-run mean sees the printer's history.

Figures, one per line as `name: value unit`: time from a failure's onset to the
pause, false pauses in good prints (and before a failure shows, and after the
user resumes), warnings raised in good prints, and for the default the anchors'
figures with the ratio default / anchor.

Run: `python -m benchmarks.replay [--seed N] [--interval S] [--check]`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import io
import random
import sys
import time

import httpx

from custom_components.print_sentinel.detection.cost import (
    DEFAULT_FRAME_COUNT,
    DEFAULT_LONG_SIDE,
    DEFAULT_MODEL,
)
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
)
from custom_components.print_sentinel.detection.frames import FrameBuffer, prepare_frame
from custom_components.print_sentinel.detection.policy import (
    Decision,
    NoVerdict,
    Observation,
    Policy,
    PolicyState,
    make_policy,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorError,
    Frame,
    Verdict,
)
from simulators.openai_compat import DEFAULT_API_KEY, OpenAISimulator, SimMode
from simulators.scene import Scene, render_frame

from .scenarios import SCENARIOS, Scenario

DEFAULT_INTERVAL = 20.0
DEFAULT_POLICY_GRACE = 300.0
ANCHORS = ("two_yes", "printwatch", "gadget", "obico")
DEFAULT = "sentinel"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_CAMERA = (640, 360)
_VARIANTS = 4
"""Distinct renderings per scene (cached): enough visual variety, little work."""


@dataclass(frozen=True)
class Contender:
    """A policy under test."""

    label: str
    policy: Policy


def contenders() -> list[Contender]:
    """The default at every sensitivity, then the anchors as published."""
    out = [
        Contender(DEFAULT, make_policy(DEFAULT, "medium", DEFAULT_POLICY_GRACE)),
        Contender(f"{DEFAULT}@low", make_policy(DEFAULT, "low", DEFAULT_POLICY_GRACE)),
        Contender(
            f"{DEFAULT}@high", make_policy(DEFAULT, "high", DEFAULT_POLICY_GRACE)
        ),
    ]
    out.extend(Contender(name, make_policy(name, "medium", 0)) for name in ANCHORS)
    return out


@dataclass
class Outcome:
    """What one contender did in one scenario."""

    pause_at: float | None = None
    """The first pause (simulated seconds from the print start)."""
    false_pauses: int = 0
    re_pauses: int = 0
    """Pauses after the user resumed a print whose failure was cleared."""
    warnings: int = 0
    """Warnings raised (ok -> warning)."""


@dataclass
class ScenarioRun:
    """Everything that happened in one scenario."""

    scenario: Scenario
    outcomes: dict[str, Outcome]
    checks: int = 0
    errors: int = 0
    cost_usd: float = 0.0


@dataclass
class _Track:
    state: PolicyState
    decision: Decision = Decision.OK
    paused: bool = False
    resumed: bool = False
    outcome: Outcome = field(default_factory=Outcome)


class Camera:
    """Renders and downscales scene frames, caching the JPEGs (pure CPU work)."""

    def __init__(self, long_side: int = DEFAULT_LONG_SIDE) -> None:
        """Downscale to `long_side` pixels like the integration does."""
        self.long_side = long_side
        self._cache: dict[tuple[int, str, int], Frame] = {}

    def frame(self, scene: Scene, variant: int, captured_at: datetime) -> Frame:
        """Return the prepared frame of `scene` as captured at `captured_at`."""
        key = (scene.failure, scene.kind, variant)
        cached = self._cache.get(key)
        if cached is None:
            jpeg = render_frame(scene, *_CAMERA, seed=variant)
            cached = prepare_frame(jpeg, captured_at, long_side=self.long_side)
            self._cache[key] = cached
        return Frame(
            jpeg=cached.jpeg,
            captured_at=captured_at,
            width=cached.width,
            height=cached.height,
        )


async def _observe(
    detector: OpenAIDetector, frames: Sequence[Frame]
) -> tuple[Observation, float]:
    """Run one check; return its observation and cost."""
    try:
        verdict: Verdict = await detector.async_analyze(frames)
    except DetectorError as err:
        return NoVerdict.from_error(err), 0.0
    return verdict, verdict.usage.cost_usd


async def replay_scenario(
    scenario: Scenario,
    players: Sequence[Contender],
    history: dict[str, PolicyState],
    client: httpx.AsyncClient,
    camera: Camera,
    *,
    interval: float = DEFAULT_INTERVAL,
    seed: int = 0,
) -> ScenarioRun:
    """Replay one print for every contender; `history` carries printer memory."""
    tracks = {
        c.label: _Track(state=c.policy.on_new_print(0.0, previous=history.get(c.label)))
        for c in players
    }
    run = ScenarioRun(scenario, {label: t.outcome for label, t in tracks.items()})
    sim = OpenAISimulator(
        DEFAULT_API_KEY,
        seed=seed * 1009 + scenario.seed,
        false_positive_rate=scenario.false_positive_rate,
    )
    pending_resumes = sorted(scenario.resumes)
    variants = random.Random(seed * 7919 + scenario.seed)
    async with sim:
        detector = OpenAIDetector(
            client, DEFAULT_API_KEY, sim.url, DEFAULT_MODEL, timeout=10
        )
        await detector.async_start_print(scenario.name)
        buffer = FrameBuffer(DEFAULT_FRAME_COUNT)
        steps = int(scenario.duration // interval)
        for step in range(1, steps + 1):
            now = step * interval
            while pending_resumes and pending_resumes[0] <= now:
                resumed_at = pending_resumes.pop(0)
                for contender in players:
                    track = tracks[contender.label]
                    track.state = contender.policy.on_resume(track.state, resumed_at)
                    track.paused, track.resumed = False, True
                    track.decision = Decision.OK
            if not pending_resumes and all(t.paused for t in tracks.values()):
                break
            scene = scenario.scene_at(now, seed)
            buffer.append(
                camera.frame(
                    scene,
                    variants.randrange(_VARIANTS),
                    _EPOCH + timedelta(seconds=now),
                )
            )
            sim.set_mode(
                SimMode.UNAVAILABLE if scenario.in_outage(now) else SimMode.NORMAL
            )
            observation, cost = await _observe(detector, buffer.frames())
            run.checks += 1
            run.cost_usd += cost
            run.errors += isinstance(observation, NoVerdict)
            for contender in players:
                track = tracks[contender.label]
                if track.paused:
                    continue
                track.state, decision = contender.policy.step(
                    track.state, observation, now
                )
                _account(scenario, track, decision, now)
    for contender in players:
        history[contender.label] = tracks[contender.label].state
    return run


def _account(scenario: Scenario, track: _Track, decision: Decision, now: float) -> None:
    """Record what a decision means for this contender."""
    outcome = track.outcome
    if decision is Decision.WARNING and track.decision is Decision.OK:
        outcome.warnings += 1
    track.decision = decision
    if decision is not Decision.FAILURE:
        return
    track.paused = True
    visible = scenario.first_visible
    if track.resumed:
        outcome.re_pauses += 1
    elif visible is None or now < visible:
        outcome.false_pauses += 1
    if outcome.pause_at is None:
        outcome.pause_at = now


@dataclass
class Report:
    """All scenario runs of one benchmark."""

    runs: list[ScenarioRun]
    labels: list[str]
    interval: float
    seed: int
    elapsed: float = 0.0

    def time_to_pause(self, label: str, run: ScenarioRun) -> float | None:
        """Seconds from the onset to this contender's first pause (None: never)."""
        onset = run.scenario.onset
        pause_at = run.outcomes[label].pause_at
        if onset is None or pause_at is None:
            return None
        return pause_at - onset

    def totals(self, label: str) -> dict[str, float]:
        """False pauses, re-pauses, warnings in good prints, missed failures."""
        good = [r for r in self.runs if r.scenario.good]
        bad = [r for r in self.runs if not r.scenario.good]
        return {
            "false_pauses": sum(r.outcomes[label].false_pauses for r in self.runs),
            "re_pauses": sum(r.outcomes[label].re_pauses for r in self.runs),
            "warnings": sum(r.outcomes[label].warnings for r in good),
            "missed": sum(
                r.outcomes[label].pause_at is None or r.outcomes[label].false_pauses > 0
                for r in bad
            ),
        }

    def scenarios_with(self, label: str, key: str) -> list[str]:
        """Scenarios in which this contender has a nonzero `false_pauses` etc."""
        return [r.scenario.name for r in self.runs if getattr(r.outcomes[label], key)]

    def target_failures(self) -> list[str]:
        """What the default misses of its targets (empty: all met)."""
        problems: list[str] = []
        totals = self.totals(DEFAULT)
        if totals["false_pauses"] or totals["re_pauses"]:
            problems.append("false pause")
        for run in self.runs:
            target = run.scenario.target
            if target is None:
                continue
            seconds = self.time_to_pause(DEFAULT, run)
            if seconds is None or seconds > target:
                problems.append(f"{run.scenario.name} not paused within {target:g} s")
        return problems


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f} s"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0 or ours < 0:
        return ""
    return f", ratio {ours / theirs:.2f}"


def format_report(report: Report) -> list[str]:
    """Return the figures, one `name: value unit` per line."""
    anchors = [label for label in report.labels if label in ANCHORS]
    failures = [r for r in report.runs if not r.scenario.good]
    good_count = sum(r.scenario.good for r in report.runs)
    checks = sum(r.checks for r in report.runs)
    hours = sum(r.checks for r in report.runs) * report.interval / 3600
    lines = [
        f"# replay: {len(report.runs)} scenarios ({good_count} good prints), "
        f"a check every {report.interval:g} s, seed {report.seed}; detector "
        f"{DEFAULT_MODEL} via detectors.openai_compat on simulators.openai_compat",
        f"# anchors as published (no resume grace); {DEFAULT} resume grace "
        f"{DEFAULT_POLICY_GRACE:g} s; 'never': no pause before the print ended; "
        f"ratio = {DEFAULT} / anchor (below 1: {DEFAULT} is faster)",
        f"detector.checks: {checks} count",
        f"detector.errors: {sum(r.errors for r in report.runs)} count",
        f"detector.cost_per_print_hour: "
        f"{sum(r.cost_usd for r in report.runs) / max(hours, 1e-9):.4f} USD",
    ]
    for label in report.labels:
        compare = label == DEFAULT
        for run in failures:
            ours = report.time_to_pause(label, run)
            line = f"{label}.{run.scenario.name}.time_to_pause: {_seconds(ours)}"
            if compare:
                parts = []
                for anchor in anchors:
                    theirs = report.time_to_pause(anchor, run)
                    parts.append(f"{anchor}: {_seconds(theirs)}{_ratio(ours, theirs)}")
                line += f" ({'; '.join(parts)})"
            lines.append(line)
        totals = report.totals(label)
        for key, unit in (
            ("false_pauses", "count"),
            ("re_pauses", "count"),
            ("warnings", "count"),
            ("missed", "count"),
        ):
            line = f"{label}.{key}: {totals[key]:g} {unit}"
            if compare:
                parts = [
                    f"{anchor}: {report.totals(anchor)[key]:g} {unit}"
                    for anchor in anchors
                ]
                line += f" ({'; '.join(parts)})"
            elif key in {"false_pauses", "re_pauses"} and totals[key]:
                line += f" ({', '.join(report.scenarios_with(label, key))})"
            lines.append(line)
    problems = report.target_failures()
    worst = [report.time_to_pause(DEFAULT, r) for r in report.runs if r.scenario.target]
    worst_known = [w for w in worst if w is not None]
    lines.append(
        f"{DEFAULT}.target.worst_time_to_pause: "
        f"{_seconds(max(worst_known) if len(worst_known) == len(worst) else None)}"
    )
    lines.append(
        f"{DEFAULT}.target.met: {'yes' if not problems else 'no'} bool"
        + (f" ({'; '.join(problems)})" if problems else "")
    )
    lines.append(f"benchmark.elapsed: {report.elapsed:.1f} s")
    return lines


async def run_benchmark(
    scenarios: Sequence[Scenario] = SCENARIOS,
    *,
    interval: float = DEFAULT_INTERVAL,
    seed: int = 0,
) -> Report:
    """Replay every scenario in order, as consecutive prints on one printer."""
    started = time.perf_counter()
    players = contenders()
    history: dict[str, PolicyState] = {}
    camera = Camera()
    runs: list[ScenarioRun] = []
    async with httpx.AsyncClient() as client:
        for item in scenarios:
            run = await replay_scenario(
                item, players, history, client, camera, interval=interval, seed=seed
            )
            runs.append(run)
    return Report(
        runs=runs,
        labels=[c.label for c in players],
        interval=interval,
        seed=seed,
        elapsed=time.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures; with --check, 1 if a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the default misses a target"
    )
    parser.add_argument("--only", nargs="*", help="scenario names to replay")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    report = asyncio.run(run_benchmark(chosen, interval=args.interval, seed=args.seed))
    out = io.StringIO()
    for line in format_report(report):
        out.write(line + "\n")
    sys.stdout.write(out.getvalue())
    return 1 if args.check and report.target_failures() else 0


if __name__ == "__main__":
    sys.exit(main())
