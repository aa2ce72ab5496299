"""Scripted prints for the replay benchmark: what the camera sees, second by second.

A scenario is a timeline of `simulators.scene.Scene`s (how failed the print looks,
0-100, and which failure kind) plus the events around it: detector outages and
the user resuming a paused print. The camera noise is seeded per scenario and per
second, so every run sees the same frames.

Ground truth: a print has failed once the scene shows `FAILED_LEVEL` or more
(`onset`); a failure is first visible at `VISIBLE_LEVEL` (`visible_from`, the
simulator's own threshold for "this frame shows a failure"). A pause before the
failure is visible counts as a false pause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import random

from simulators.scene import Scene

FAILED_LEVEL = 60
"""Scene failure at which a print has failed (the onset of a failure)."""
VISIBLE_LEVEL = 30
"""Scene failure at which a failure starts to show (the simulator's threshold)."""
MINUTE = 60.0

type Timeline = Callable[[float, random.Random], Scene]
"""What the camera sees at a time (seconds from the print start)."""


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One scripted print."""

    name: str
    description: str
    duration: float
    """Seconds to replay (failure scenarios may stop early once all paused)."""
    timeline: Timeline
    onset: float | None = None
    """When the print has failed; None for a good print."""
    visible_from: float | None = None
    """When the failure starts to show (defaults to `onset`)."""
    target: float | None = None
    """The default policy should pause within this many seconds of the onset."""
    outages: tuple[tuple[float, float], ...] = ()
    """Windows [start, end) in which every detector call fails (HTTP 503)."""
    resumes: tuple[float, ...] = ()
    """Times at which the user resumes the print."""
    false_positive_rate: float = 0.03
    """The detector simulator's rate of false positive spikes on good frames."""
    seed: int = 0

    @property
    def good(self) -> bool:
        """Whether the print never fails."""
        return self.onset is None

    @property
    def first_visible(self) -> float | None:
        """When the failure first shows, if it ever does."""
        return self.visible_from if self.visible_from is not None else self.onset

    def scene_at(self, t: float, base_seed: int = 0) -> Scene:
        """Return what the camera sees `t` seconds into the print."""
        rng = random.Random((base_seed * 1_000_003 + self.seed) * 100_003 + int(t))
        return self.timeline(t, rng)

    def in_outage(self, t: float) -> bool:
        """Whether the detector is down at `t`."""
        return any(start <= t < end for start, end in self.outages)


# --- building blocks -------------------------------------------------------------


def _clip(value: float, low: int = 0, high: int = 100) -> int:
    return max(low, min(high, round(value)))


def good_frame(rng: random.Random, level: float = 8.0, spread: float = 4.0) -> Scene:
    """A healthy print: a little visual noise, well below the visible threshold."""
    return Scene(failure=_clip(rng.gauss(level, spread), 0, VISIBLE_LEVEL - 5))


def clean_print(t: float, rng: random.Random) -> Scene:
    """A print that looks fine throughout."""
    return good_frame(rng)


def busy_print(t: float, rng: random.Random) -> Scene:
    """A fine print with a busy scene: supports, a textured bed, moving shadows."""
    return good_frame(rng, level=16, spread=7)


def obstructed(times: tuple[float, ...], frames: int, kind: str) -> Timeline:
    """A good print with something in view for `frames` snapshots at each time."""

    def timeline(t: float, rng: random.Random) -> Scene:
        for start in times:
            if start <= t < start + frames * 20:
                return Scene(failure=_clip(rng.uniform(90, 100)), kind=kind)
        return good_frame(rng)

    return timeline


def cosmetic_stringing(start: float, end: float) -> Timeline:
    """Fine strings between islands: ugly, harmless, often flagged by a model."""

    def timeline(t: float, rng: random.Random) -> Scene:
        if start <= t < end:
            return Scene(failure=_clip(rng.uniform(32, 46)), kind="stringing")
        return good_frame(rng)

    return timeline


def purge_line(length: float) -> Timeline:
    """The purge line and first layer confuse the model for the first seconds."""

    def timeline(t: float, rng: random.Random) -> Scene:
        if t < length:
            return Scene(failure=_clip(rng.uniform(40, 58)), kind="blob")
        return good_frame(rng)

    return timeline


def sudden(onset: float, kind: str, level: float = 86.0) -> Timeline:
    """A failure that is obvious as soon as it happens, and gets worse."""

    def timeline(t: float, rng: random.Random) -> Scene:
        if t < onset:
            return good_frame(rng)
        worse = min(10.0, (t - onset) / MINUTE * 3)
        return Scene(failure=_clip(rng.gauss(level + worse, 3)), kind=kind)

    return timeline


def ramp(start: float, length: float, low: float, high: float, kind: str) -> Timeline:
    """A failure that grows steadily from `low` to `high` over `length` seconds."""

    def timeline(t: float, rng: random.Random) -> Scene:
        if t < start:
            return good_frame(rng)
        level = low + (high - low) * min(1.0, (t - start) / length)
        return Scene(failure=_clip(rng.gauss(level, 2)), kind=kind)

    return timeline


def ramp_crossing(
    start: float, length: float, low: float, high: float, at: float
) -> float:
    """When a `ramp` reaches the level `at`."""
    return start + length * (at - low) / (high - low)


def cleared_after_resume(onset: float, resume: float, residue: float) -> Timeline:
    """Spaghetti, cleared by the user; stray strings stay in view after resuming."""

    def timeline(t: float, rng: random.Random) -> Scene:
        if t < onset:
            return good_frame(rng)
        if t < resume:
            return Scene(failure=_clip(rng.gauss(88, 3)), kind="spaghetti")
        if t < resume + residue:
            return Scene(failure=_clip(rng.uniform(55, 80)), kind="stringing")
        return good_frame(rng)

    return timeline


# --- the scenarios ---------------------------------------------------------------

_BLOB_START, _BLOB_LENGTH = 20 * MINUTE, 15 * MINUTE
_RESUME_ONSET, _RESUME_AT = 15 * MINUTE + 11, 21 * MINUTE

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="good_clean",
        description="a clean 1 h print",
        duration=60 * MINUTE,
        timeline=clean_print,
        seed=1,
    ),
    Scenario(
        name="good_noisy",
        description="a busy scene and a twitchy model (10 % false positives), 1 h",
        duration=60 * MINUTE,
        timeline=busy_print,
        false_positive_rate=0.10,
        seed=2,
    ),
    Scenario(
        name="good_single_bad_frame",
        description="one snapshot that looks like spaghetti (glare) at 20 min",
        duration=40 * MINUTE,
        timeline=obstructed((20 * MINUTE,), frames=1, kind="spaghetti"),
        seed=3,
    ),
    Scenario(
        name="good_hand_in_view",
        description="a hand in view for two snapshots, twice",
        duration=40 * MINUTE,
        timeline=obstructed((12 * MINUTE, 28 * MINUTE), frames=2, kind="blob"),
        seed=4,
    ),
    Scenario(
        name="good_stringing",
        description="harmless stringing for 25 min of a 40 min print",
        duration=40 * MINUTE,
        timeline=cosmetic_stringing(10 * MINUTE, 35 * MINUTE),
        seed=5,
    ),
    Scenario(
        name="good_purge_line",
        description="a confusing purge line for the first 100 s",
        duration=15 * MINUTE,
        timeline=purge_line(100),
        seed=6,
    ),
    Scenario(
        name="good_outage",
        description="a good print; the detector is down (503) from 10 to 20 min",
        duration=35 * MINUTE,
        timeline=clean_print,
        outages=((10 * MINUTE, 20 * MINUTE),),
        seed=7,
    ),
    Scenario(
        name="spaghetti",
        description="spaghetti from 20 min",
        duration=30 * MINUTE,
        timeline=sudden(20 * MINUTE + 7, "spaghetti"),
        onset=20 * MINUTE + 7,
        target=60,
        seed=8,
    ),
    Scenario(
        name="detachment",
        description="the part comes off the bed at 15 min",
        duration=25 * MINUTE,
        timeline=sudden(15 * MINUTE + 13, "detachment", level=90),
        onset=15 * MINUTE + 13,
        target=60,
        seed=9,
    ),
    Scenario(
        name="detachment_early",
        description="the first layers let go at 3 min",
        duration=13 * MINUTE,
        timeline=sudden(3 * MINUTE + 5, "detachment", level=90),
        onset=3 * MINUTE + 5,
        target=60,
        seed=10,
    ),
    Scenario(
        name="slow_blob",
        description="a blob grows on the nozzle over 15 min from 20 min",
        duration=42 * MINUTE,
        timeline=ramp(_BLOB_START, _BLOB_LENGTH, 10, 95, "blob"),
        onset=ramp_crossing(_BLOB_START, _BLOB_LENGTH, 10, 95, FAILED_LEVEL),
        visible_from=ramp_crossing(_BLOB_START, _BLOB_LENGTH, 10, 95, VISIBLE_LEVEL),
        seed=11,
    ),
    Scenario(
        name="spaghetti_in_outage",
        description="spaghetti at 22 min while the detector is down 20-30 min",
        duration=40 * MINUTE,
        timeline=sudden(22 * MINUTE + 3, "spaghetti"),
        onset=22 * MINUTE + 3,
        outages=((20 * MINUTE, 30 * MINUTE),),
        seed=12,
    ),
    Scenario(
        name="spaghetti_resumed",
        description=(
            "spaghetti at 15 min; the user clears it and resumes at 21 min, "
            "stray strings stay in view for 4 min"
        ),
        duration=40 * MINUTE,
        timeline=cleared_after_resume(_RESUME_ONSET, _RESUME_AT, 4 * MINUTE),
        onset=_RESUME_ONSET,
        target=60,
        resumes=(_RESUME_AT,),
        seed=13,
    ),
)
"""Good prints first: they build the printer history Obico's long mean needs."""


def scenario(name: str) -> Scenario:
    """Return the scenario called `name`."""
    for item in SCENARIOS:
        if item.name == name:
            return item
    raise KeyError(name)
