"""The corpus through the image simulator and the real client (fewer seeds).

Two checks that the pure verdict streams of `benchmarks.corpus` stand for what
the integration sees:

- **scripted**: each generated verdict is scripted into the loopback OpenAI
  simulator, the frame of that moment is rendered (`simulators.scene`), prepared
  like the integration does (`detection.frames.prepare_frame`, the recommended
  long side) and sent, alone, through the real `OpenAIDetector`; failed checks
  are the simulator's HTTP 503. The verdicts the client returns must equal the
  generated ones (score, kind, suggestions), check by check.
- **image**: the same frames, judged by the simulator's own noise model instead
  (one frame a check, so nothing is averaged), replayed through every policy.

HTTP round trips are slow next to pure replay, so this uses few seeds and caps
the checks per print; it says how many.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import random
import sys

import httpx

from custom_components.print_sentinel.detection.cost import DEFAULT_MODEL
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
)
from custom_components.print_sentinel.detection.frames import prepare_frame
from custom_components.print_sentinel.detection.policy import NoVerdict, Observation
from custom_components.print_sentinel.detection.verdict import (
    DetectorError,
    Frame,
    Verdict,
)
from simulators.openai_compat import DEFAULT_API_KEY, OpenAISimulator, SimMode
from simulators.scene import Scene, render_frame

from . import corpus
from .corpus import KINDS, SCENE_KIND, STYLES, Kind, Stream, Truth
from .cost import RECOMMENDED_LONG_SIDE

CAMERA = (640, 360)
MAX_CHECKS = 120
"""Checks per print at most on the scripted path (around the onset, if any)."""
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Camera:
    """Renders and prepares frames of a truth, caching by level step and kind."""

    def __init__(self, long_side: int = RECOMMENDED_LONG_SIDE) -> None:
        """Prepare frames to `long_side` pixels, like the integration."""
        self.long_side = long_side
        self._cache: dict[tuple[int, str], Frame] = {}

    def frame(self, truth: Truth, at: float) -> Frame:
        """The prepared frame showing `truth`, captured `at` seconds in."""
        level = max(0, min(100, round(truth.level / 2) * 2))
        kind = SCENE_KIND.get(truth.shows, "none") if level >= 30 else "none"
        key = (level, kind)
        cached = self._cache.get(key)
        captured = _EPOCH + timedelta(seconds=at)
        if cached is None:
            jpeg = render_frame(Scene(failure=level, kind=kind), *CAMERA, seed=level)
            cached = prepare_frame(jpeg, captured, long_side=self.long_side)
            self._cache[key] = cached
        return replace(cached, captured_at=captured)


def truths(item: Kind, seed: int, interval: float) -> list[tuple[float, Truth]]:
    """The frames of one print (the same draw as the generated streams)."""
    plan = item.draw(random.Random(f"{item.name}/{seed}"))
    rng = random.Random(f"{item.name}/{seed}/{interval:g}/image")
    return list(corpus.frames(plan, interval, rng))


def _window(
    checks: Sequence[tuple[float, Observation]], around: float | None
) -> Sequence[tuple[float, Observation]]:
    if len(checks) <= MAX_CHECKS:
        return checks
    if around is None:
        return checks[:MAX_CHECKS]
    index = next((i for i, (t, _) in enumerate(checks) if t >= around), 0)
    start = max(0, index - MAX_CHECKS // 2)
    return checks[start : start + MAX_CHECKS]


def _answer(verdict: Verdict) -> dict[str, object]:
    return {
        "failure_score": round(verdict.failure_score),
        "print_quality": verdict.print_quality or 1,
        "kind": verdict.kind.value,
        "reason": "scripted replay",
    }


async def _check(
    detector: OpenAIDetector, sim: OpenAISimulator, frame: Frame, error: bool
) -> Observation:
    if error:
        sim.set_mode(SimMode.UNAVAILABLE, count=1)
    try:
        return await detector.async_analyze([frame])
    except DetectorError as err:
        return NoVerdict.from_error(err)


def same(ours: Observation, theirs: Observation) -> bool:
    """Whether the client's observation matches the generated one."""
    if isinstance(ours, NoVerdict) or isinstance(theirs, NoVerdict):
        return isinstance(ours, NoVerdict) and isinstance(theirs, NoVerdict)
    return (
        ours.failure_score == theirs.failure_score
        and ours.kind is theirs.kind
        and ours.warning == theirs.warning
        and ours.pause == theirs.pause
    )


async def scripted(
    kinds: Sequence[Kind], seeds: Sequence[int], interval: float
) -> tuple[int, int]:
    """Send generated verdicts through the real client; return (checks, mismatches)."""
    camera = Camera()
    checks = mismatches = 0
    async with httpx.AsyncClient() as client:
        for item in kinds:
            for seed in seeds:
                for style in STYLES:
                    generated = corpus.stream(item, seed, interval, style)
                    frames = dict(truths(item, seed, interval))
                    async with OpenAISimulator(DEFAULT_API_KEY) as sim:
                        detector = OpenAIDetector(
                            client,
                            DEFAULT_API_KEY,
                            sim.url,
                            DEFAULT_MODEL,
                            max_frames=1,
                        )
                        for at, observation in _window(
                            generated.checks, generated.plan.onset
                        ):
                            error = isinstance(observation, NoVerdict)
                            if not error:
                                assert isinstance(observation, Verdict)
                                sim.script([_answer(observation)])
                            truth = frames.get(at, Truth(0.0))
                            got = await _check(
                                detector, sim, camera.frame(truth, at), error
                            )
                            checks += 1
                            mismatches += not same(observation, got)
    return checks, mismatches


async def imaged(
    kinds: Sequence[Kind], seeds: Sequence[int], interval: float
) -> list[Stream]:
    """Streams judged by the image simulator's own noise model, one frame a check."""
    camera = Camera()
    out: list[Stream] = []
    async with httpx.AsyncClient() as client:
        for item in kinds:
            for seed in seeds:
                plan = item.draw(random.Random(f"{item.name}/{seed}"))
                async with OpenAISimulator(DEFAULT_API_KEY, seed=seed) as sim:
                    detector = OpenAIDetector(
                        client, DEFAULT_API_KEY, sim.url, DEFAULT_MODEL, max_frames=1
                    )
                    checks: list[tuple[float, Observation]] = []
                    for at, truth in truths(item, seed, interval):
                        got = await _check(
                            detector,
                            sim,
                            camera.frame(truth, at),
                            truth.error is not None,
                        )
                        checks.append((at, got))
                out.append(
                    Stream(
                        kind=item,
                        seed=seed,
                        interval=interval,
                        style="image",
                        plan=plan,
                        checks=tuple(checks),
                    )
                )
    return out


def main(
    kinds: Sequence[Kind] = KINDS,
    seeds: Sequence[int] = (0,),
    interval: float = 20.0,
) -> list[str]:
    """Run both paths; print and return their figures."""
    from .replay import Tally, contenders, row, simulate

    checks, mismatches = asyncio.run(scripted(kinds, seeds, interval))
    lines = [
        f"# replay via client: {len(kinds)} kinds x {len(seeds)} seed(s) x "
        f"{len(STYLES)} styles, at most {MAX_CHECKS} checks a print, every "
        f"{interval:g} s, one frame of {RECOMMENDED_LONG_SIDE} px a check, real "
        "OpenAIDetector against simulators.openai_compat",
        f"replay.client.scripted_checks: {checks} count",
        f"replay.client.scripted_mismatches: {mismatches} count",
    ]
    streams = asyncio.run(imaged(kinds, seeds, interval))
    lines.append(
        f"# image path: the simulator's own noise model, {len(streams)} prints; "
        "columns as in the replay table"
    )
    for contender in contenders():
        if contender.sensitivity != "medium":
            continue
        policy = contender.build()
        tally = Tally()
        for item in streams:
            tally.add(simulate(policy, item))
        lines.append(f"replay.client.image.{contender.name}: " + "  ".join(row(tally)))
    sys.stdout.write("\n".join(lines) + "\n")
    return lines
