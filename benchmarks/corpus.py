"""A replay corpus that looks like the field: scripted prints as verdict streams.

Each scenario kind (`KINDS`) is a kind of print: a good one with something that
fools detectors, a failure, or a resume. For a seed it draws its own numbers (when
the failure starts, how long a plateau lasts, how often a clip shows) and yields,
frame by frame, what the camera shows (`Truth`: the score a graded detector gives
that frame on average, what it shows, whether the check fails). A detector style
(`STYLES`) turns each frame into a `Verdict` or `NoVerdict`, independently per
frame (no averaging over frames):

- `binary`: a vision LLM that answers nearly yes/no. Yes scores 88-100, no 0-10;
  the chance of a yes rises steeply with what the frame shows (a logistic centred
  near 62). Yes answers name a kind.
- `graded`: a detector that uses the whole range (Gadget, PrintWatch, an LLM told
  to grade): the frame's level plus noise. Half the seeds name kinds as an LLM
  does, half only say "spaghetti" above 50 as Gadget does.

Every verdict carries the warning/pause suggestions of `detection.prompt` (50 / 80),
as the OpenAI-compatible detector derives them.

Streams are generated directly (pure Python, cheap). `benchmarks.replay --via
client` also sends them through the loopback OpenAI simulator and the real client,
and renders the same truths as camera frames for the image simulator.

The public reports each kind is drawn from are cited in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
import math
import random
from typing import Final

from custom_components.print_sentinel.detection.policy import NoVerdict, Observation
from custom_components.print_sentinel.detection.prompt import PAUSE_SCORE, WARNING_SCORE
from custom_components.print_sentinel.detection.verdict import FailureKind, Verdict

MINUTE: Final = 60.0
HOUR: Final = 3600.0
INTERVALS: Final = (10.0, 20.0, 30.0)
STYLES: Final = ("binary", "graded")
MISS_AFTER: Final = 600.0
"""A failure not decided within this many seconds of its onset is missed."""
USER_RESPONSE: Final = 120.0
"""Seconds until the user resumes a false pause (the printer stays paused)."""
FAILED_LEVEL: Final = 60.0
"""A growing failure has set in (its onset) when its level reaches this."""

# Groups of kinds.
GOOD: Final = "good"
FAILURE: Final = "failure"
RESUME_FIXED: Final = "resume_fixed"
"""A true failure, fixed by the user and resumed; what it left stays in view."""
RESUME_FALSE: Final = "resume_false"
"""A false pause the user resumed; its cause stays in view."""

# What detectors call what they see (shares; the first is the usual answer).
REPORTED: Final[dict[str, tuple[tuple[FailureKind, float], ...]]] = {
    "spaghetti": (
        (FailureKind.SPAGHETTI, 0.8),
        (FailureKind.STRINGING, 0.1),
        (FailureKind.OTHER, 0.1),
    ),
    "detachment": (
        (FailureKind.DETACHMENT, 0.75),
        (FailureKind.SPAGHETTI, 0.15),
        (FailureKind.OTHER, 0.1),
    ),
    "layer_shift": (
        (FailureKind.LAYER_SHIFT, 0.75),
        (FailureKind.OTHER, 0.15),
        (FailureKind.UNDER_EXTRUSION, 0.1),
    ),
    "blob": (
        (FailureKind.BLOB, 0.8),
        (FailureKind.OTHER, 0.1),
        (FailureKind.SPAGHETTI, 0.1),
    ),
    "clip": (
        (FailureKind.SPAGHETTI, 0.35),
        (FailureKind.BLOB, 0.25),
        (FailureKind.OTHER, 0.25),
        (FailureKind.DETACHMENT, 0.15),
    ),
    "infill": (
        (FailureKind.UNDER_EXTRUSION, 0.3),
        (FailureKind.STRINGING, 0.25),
        (FailureKind.SPAGHETTI, 0.2),
        (FailureKind.OTHER, 0.15),
        (FailureKind.LAYER_SHIFT, 0.1),
    ),
    "hand": (
        (FailureKind.OTHER, 0.4),
        (FailureKind.DETACHMENT, 0.3),
        (FailureKind.BLOB, 0.3),
    ),
    "purge": (
        (FailureKind.SPAGHETTI, 0.4),
        (FailureKind.BLOB, 0.35),
        (FailureKind.OTHER, 0.25),
    ),
    "strings": (
        (FailureKind.STRINGING, 0.55),
        (FailureKind.SPAGHETTI, 0.3),
        (FailureKind.OTHER, 0.15),
    ),
    "supports": (
        (FailureKind.STRINGING, 0.3),
        (FailureKind.SPAGHETTI, 0.25),
        (FailureKind.OTHER, 0.25),
        (FailureKind.WARPING, 0.2),
    ),
    "glare": (
        (FailureKind.OTHER, 0.4),
        (FailureKind.BLOB, 0.3),
        (FailureKind.SPAGHETTI, 0.3),
    ),
    "none": ((FailureKind.OTHER, 1.0),),
}
SCENE_KIND: Final = {
    "spaghetti": "spaghetti",
    "detachment": "detachment",
    "layer_shift": "layer_shift",
    "blob": "blob",
    "clip": "spaghetti",
    "infill": "under_extrusion",
    "hand": "blob",
    "purge": "blob",
    "strings": "stringing",
    "supports": "stringing",
    "glare": "blob",
    "none": "none",
}
"""The kind `simulators.scene` paints for what a frame shows (image path)."""


@dataclass(frozen=True, slots=True)
class Truth:
    """What the camera shows in one frame."""

    level: float
    """The score a graded detector gives this frame on average (0-100)."""
    shows: str = "none"
    """What is in view (a key of `REPORTED`)."""
    error: str | None = None
    """The check gives no verdict, for this reason."""


type FrameFn = Callable[[float, random.Random], Truth]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """One print of a kind, as drawn for one seed."""

    duration: float
    frame: FrameFn
    started: float | None = None
    """When the failure began (a decision after it is no false pause)."""
    onset: float | None = None
    """When the print has failed (time to decision is measured from it)."""
    pace: str = "sudden"
    """sudden, gradual (grows over minutes) or subtle (a moderate score that stays)."""
    resume_at: float | None = None
    """RESUME_FIXED: when the user resumes the fixed print; RESUME_FALSE: when the
    user resumes a false pause (every policy is told so at this time)."""


@dataclass(frozen=True, kw_only=True)
class Kind:
    """A scenario kind: a docstring with its sources, and how to draw a print."""

    name: str
    group: str
    doc: str
    draw: Callable[[random.Random], Plan]


@dataclass(frozen=True, kw_only=True)
class Stream:
    """One print's checks as one detector style saw them."""

    kind: Kind
    seed: int
    interval: float
    style: str
    plan: Plan
    checks: tuple[tuple[float, Observation], ...] = field(repr=False)


# --- building blocks -------------------------------------------------------------


def _clip(value: float) -> float:
    return 0.0 if value < 0 else 100.0 if value > 100 else value


def background(rng: random.Random, low: float = 4.0, high: float = 14.0) -> float:
    """A healthy frame's level."""
    return rng.uniform(low, high)


def clean(level: tuple[float, float] = (4.0, 14.0)) -> FrameFn:
    """A print that looks fine."""

    def frame(t: float, rng: random.Random) -> Truth:
        return Truth(background(rng, *level))

    return frame


def busy(low: float, high: float) -> FrameFn:
    """A busy scene (supports, a textured bed) that scores `low`-`high` all along."""

    def frame(t: float, rng: random.Random) -> Truth:
        return Truth(rng.uniform(low, high), "supports")

    return frame


def with_errors(
    base: FrameFn,
    rate: float = 0.0,
    bursts: tuple[tuple[float, float], ...] = (),
    burst_rate: float = 1.0,
) -> FrameFn:
    """`base`, with a share `rate` of failed checks, and `burst_rate` in bursts."""

    def frame(t: float, rng: random.Random) -> Truth:
        truth = base(t, rng)
        if any(start <= t < end for start, end in bursts) and (
            burst_rate >= 1.0 or rng.random() < burst_rate
        ):
            return Truth(truth.level, truth.shows, "DetectorUnavailable")
        if rate and rng.random() < rate:
            return Truth(truth.level, truth.shows, "DetectorBadResponse")
        return truth

    return frame


def bursts_in(
    rng: random.Random, duration: float, count: int, low: float, high: float
) -> tuple[tuple[float, float], ...]:
    """`count` error bursts of `low`-`high` seconds spread over a print."""
    out = []
    for index in range(count):
        start = duration * (index + rng.uniform(0.15, 0.75)) / count
        out.append((start, start + rng.uniform(low, high)))
    return tuple(out)


def spikes(base: FrameFn, rate: float, low: float, high: float, shows: str) -> FrameFn:
    """`base`, with a share `rate` of frames scoring `low`-`high` (clip, logo)."""

    def frame(t: float, rng: random.Random) -> Truth:
        if rng.random() < rate:
            return Truth(rng.uniform(low, high), shows)
        return base(t, rng)

    return frame


def windows(
    base: FrameFn,
    spans: tuple[tuple[float, float], ...],
    low: float,
    high: float,
    shows: str,
) -> FrameFn:
    """`base`, scoring `low`-`high` inside each [start, end) window."""

    def frame(t: float, rng: random.Random) -> Truth:
        for start, end in spans:
            if start <= t < end:
                return Truth(rng.uniform(low, high), shows)
        return base(t, rng)

    return frame


def plateau_spans(
    rng: random.Random, duration: float, count: int, low: float, high: float
) -> tuple[tuple[float, float], ...]:
    """`count` windows of `low`-`high` seconds, spread out and not overlapping."""
    out = []
    for index in range(count):
        length = rng.uniform(low, high)
        room = duration / count
        start = index * room + rng.uniform(0.1, 0.9) * max(room - length, 0.0)
        out.append((start, start + length))
    return tuple(out)


def plateau(
    base: FrameFn,
    spans: tuple[tuple[float, float], ...],
    levels: tuple[float, ...],
    spread: float,
    shows: str,
) -> FrameFn:
    """`base`, holding a level per window (its own, +- `spread` per frame)."""

    def frame(t: float, rng: random.Random) -> Truth:
        for (start, end), level in zip(spans, levels, strict=True):
            if start <= t < end:
                return Truth(_clip(level + rng.uniform(-spread, spread)), shows)
        return base(t, rng)

    return frame


def failure(
    base: FrameFn, level: Callable[[float], float | None], shows: str
) -> FrameFn:
    """`base`, overlaid from when `level(t)` is not None by a failure that high.

    Over a busy background the failure adds to what is already there: the frame
    scores the higher of the two, plus a little.
    """

    def frame(t: float, rng: random.Random) -> Truth:
        truth = base(t, rng)
        failed = level(t)
        if failed is None:
            return truth
        if truth.level > 25:
            failed = max(failed, truth.level) + 5.0
        return Truth(_clip(failed + rng.gauss(0, 3)), shows, truth.error)

    return frame


def growing(
    start: float, minutes: float, low: float, high: float
) -> Callable[[float], float | None]:
    """A level that grows from `low` to `high` over `minutes` from `start`."""
    length = minutes * MINUTE

    def level(t: float) -> float | None:
        if t < start:
            return None
        return low + (high - low) * min(1.0, (t - start) / length)

    return level


def crossing(start: float, minutes: float, low: float, high: float) -> float:
    """When a `growing` level reaches `FAILED_LEVEL`."""
    return start + minutes * MINUTE * (FAILED_LEVEL - low) / (high - low)


def stepped(start: float, value: float) -> Callable[[float], float | None]:
    """A level that jumps to `value` at `start` and stays."""

    def level(t: float) -> float | None:
        return None if t < start else value

    return level


# --- the kinds -------------------------------------------------------------------

_KINDS: list[Kind] = []


def kind(name: str, group: str) -> Callable[[Callable[[random.Random], Plan]], None]:
    """Register a kind; its function's docstring cites what motivates it."""

    def register(draw: Callable[[random.Random], Plan]) -> None:
        _KINDS.append(Kind(name=name, group=group, doc=draw.__doc__ or "", draw=draw))

    return register


def _good_duration(rng: random.Random) -> float:
    return rng.uniform(1.0, 3.0) * HOUR


@kind("good_clean", GOOD)
def _good_clean(rng: random.Random) -> Plan:
    """A clean print: the baseline every detector should leave alone."""
    return Plan(duration=_good_duration(rng), frame=clean())


@kind("good_bed_clip", GOOD)
def _good_bed_clip(rng: random.Random) -> Plan:
    """A bed clip that scores 80-90 in one frame out of four to six, all print long.

    obico-server#48 "bed clips false alarm" (github.com/TheSpaghettiDetective/
    obico-server/issues/48); Obico's false-alarm docs list bed clips first (quoted in
    github.com/OctoPrint/OctoPrint/issues/1256).
    """
    rate = 1 / rng.uniform(4, 6)
    return Plan(
        duration=_good_duration(rng), frame=spikes(clean(), rate, 80, 90, "clip")
    )


@kind("good_bed_logo", GOOD)
def _good_bed_logo(rng: random.Random) -> Plan:
    """The logo on the bed, seen when the bed moves forward: 80-95 in 1 of 6-8 frames.

    Obico's docs: "The beautiful logo on Ender 3's bed or other text" is a common
    false alarm (github.com/OctoPrint/OctoPrint/issues/1256).
    """
    rate = 1 / rng.uniform(6, 8)
    return Plan(
        duration=_good_duration(rng), frame=spikes(clean(), rate, 80, 95, "clip")
    )


@kind("good_reflection", GOOD)
def _good_reflection(rng: random.Random) -> Plan:
    """A reflection the print head reveals as it passes: pairs of 80-90 frames.

    obico-server#419: the Z end stop revealed by the print head is flagged again and
    again until the print is paused; Obico's docs: "Extruder's reflection on the
    glass bed" (github.com/OctoPrint/OctoPrint/issues/1256).
    """
    rate = 1 / rng.uniform(8, 12)
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        # the head lingers: a reflection often shows in two checks running
        slot = int(t // 25)
        local = random.Random(slot * 7919 + int(rate * 1e6))
        if local.random() < rate:
            return Truth(rng.uniform(80, 90), "glare")
        return base(t, rng)

    return Plan(duration=_good_duration(rng), frame=frame)


@kind("good_clip_errors", GOOD)
def _good_clip_errors(rng: random.Random) -> Plan:
    """A bed clip (80-90 in 1 of 5 frames) with 25 % failed checks between hits.

    A detector error between two hits keeps two-in-a-row's streak alive; obico-
    server#48 for the clip, openai-python#414 ("model is currently overloaded") for
    the errors.
    """
    return Plan(
        duration=_good_duration(rng),
        frame=with_errors(spikes(clean(), 0.2, 80, 90, "clip"), rate=0.25),
    )


@kind("good_gyroid", GOOD)
def _good_gyroid(rng: random.Random) -> Plan:
    """Gyroid infill in view: one plateau of 50-70 for 5-15 minutes.

    obico-server#54 "Gyroid infill false alarms": "it mistakes the squiggly infill
    pattern ... and constantly pauses the print".
    """
    duration = _good_duration(rng)
    spans = plateau_spans(rng, duration, 1, 5 * MINUTE, 15 * MINUTE)
    levels = (rng.uniform(55, 65),)
    return Plan(duration=duration, frame=plateau(clean(), spans, levels, 5, "infill"))


@kind("good_honeycomb", GOOD)
def _good_honeycomb(rng: random.Random) -> Plan:
    """Honeycomb infill and a patterned wall: 2-3 plateaus of 50-70, 5-15 min each.

    BambuStudio#6378: a patterned vase "constantly stops every few layers with a
    spaghetti detection warning", even on low sensitivity.
    """
    duration = _good_duration(rng)
    count = rng.randint(2, 3)
    spans = plateau_spans(rng, duration, count, 5 * MINUTE, 15 * MINUTE)
    levels = tuple(rng.uniform(55, 65) for _ in spans)
    return Plan(duration=duration, frame=plateau(clean(), spans, levels, 5, "infill"))


@kind("good_hand", GOOD)
def _good_hand(rng: random.Random) -> Plan:
    """A hand in view for 20-40 s, one to three times (removing a part, a purge).

    Obico's false-alarm docs (github.com/OctoPrint/OctoPrint/issues/1256) and
    BambuStudio#1007 (a pause "when there's absolutely nothing to suggest a
    failure"): whatever moves into view looks like a failure for a moment.
    """
    duration = _good_duration(rng)
    spans = tuple(
        (start, start + rng.uniform(20, 40))
        for start in sorted(
            rng.uniform(0.1, 0.9) * duration for _ in range(rng.randint(1, 3))
        )
    )
    return Plan(duration=duration, frame=windows(clean(), spans, 88, 100, "hand"))


@kind("good_tool", GOOD)
def _good_tool(rng: random.Random) -> Plan:
    """A tool (tweezers, a scraper) in view for 20-40 s, then a hand taking it back.

    As `good_hand`: BambuStudio#1007, Obico's false-alarm docs.
    """
    duration = _good_duration(rng)
    start = rng.uniform(0.2, 0.8) * duration
    first = (start, start + rng.uniform(20, 40))
    later = first[1] + rng.uniform(60, 240)
    spans = (first, (later, later + rng.uniform(20, 40)))
    return Plan(duration=duration, frame=windows(clean(), spans, 80, 95, "hand"))


@kind("good_purge_wipe", GOOD)
def _good_purge_wipe(rng: random.Random) -> Plan:
    """A purge line and wipe at print start that scores 70-95 for 1-3 minutes.

    nberktumer/ha-bambu-lab-p1-spaghetti-detection#17: the first layers "caused
    continuous false positives"; BambuStudio#5226: the purge line leaves a blob.
    """
    length = rng.uniform(1, 3) * MINUTE
    return Plan(
        duration=_good_duration(rng),
        frame=windows(clean(), ((0.0, length),), 70, 95, "purge"),
    )


@kind("good_lights_off", GOOD)
def _good_lights_off(rng: random.Random) -> Plan:
    """Lights off for 5-20 minutes (unclear answers), then one glare frame at 95.

    obico-server#170: "increasing the lighting in my enclosure solved the issue";
    BambuStudio#1007 (light on the camera); PrintWatch's docs name poor lighting and
    overexposure first among false positives (printpal.io/documentation).
    """
    duration = _good_duration(rng)
    off = rng.uniform(0.2, 0.7) * duration
    on = off + rng.uniform(5, 20) * MINUTE
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        if off <= t < on:
            return Truth(5.0, "none", "unclear")
        if on <= t < on + 20:
            return Truth(95.0, "glare")
        return base(t, rng)

    return Plan(duration=duration, frame=frame)


@kind("good_stringy_supports", GOOD)
def _good_stringy_supports(rng: random.Random) -> Plan:
    """Stringy tree supports for 20-40 min: 35-55, with spikes to 75-80 (1 in 6).

    nberktumer/ha-bambu-lab-p1-spaghetti-detection#17: "the algorithm still flagged
    the design as string" and paused again right after a resume.
    """
    duration = _good_duration(rng)
    start = rng.uniform(0.1, 0.5) * duration
    end = start + rng.uniform(20, 40) * MINUTE
    stringy = spikes(busy(35, 55), 1 / 6, 75, 80, "strings")
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        return stringy(t, rng) if start <= t < end else base(t, rng)

    return Plan(duration=duration, frame=frame)


@kind("good_cosmetic_strings", GOOD)
def _good_cosmetic_strings(rng: random.Random) -> Plan:
    """Harmless stringing between islands, 35-55, for 10-30 minutes.

    The prompt tells models stringing alone scores below 50; small ones still flag
    it (askthenozzle: "stringing looks like underextrusion at a glance").
    """
    duration = _good_duration(rng)
    start = rng.uniform(0.2, 0.7) * duration
    span = ((start, start + rng.uniform(10, 30) * MINUTE),)
    return Plan(duration=duration, frame=windows(clean(), span, 35, 55, "strings"))


@kind("good_errors_spread", GOOD)
def _good_errors_spread(rng: random.Random) -> Plan:
    """10-40 % of checks fail, spread out (overloaded model, time-outs, bad answers).

    openai-python#414 "the model is currently overloaded"; ha-llmvision#188.
    """
    rate = rng.uniform(0.1, 0.4)
    return Plan(
        duration=_good_duration(rng),
        frame=with_errors(spikes(clean(), 0.02, 60, 85, "glare"), rate=rate),
    )


@kind("good_errors_burst", GOOD)
def _good_errors_burst(rng: random.Random) -> Plan:
    """Two to four outages of 3-10 minutes, a glare frame now and then.

    ha-llmvision#188: "The model is overloaded" for hours; openai-python#414.
    """
    duration = _good_duration(rng)
    bursts = bursts_in(rng, duration, rng.randint(2, 4), 3 * MINUTE, 10 * MINUTE)
    return Plan(
        duration=duration,
        frame=with_errors(spikes(clean(), 0.02, 60, 85, "glare"), bursts=bursts),
    )


@kind("good_busy_scene", GOOD)
def _good_busy_scene(rng: random.Random) -> Plan:
    """A busy scene all print long (supports, a grate, an enclosure): 30-50.

    obico-server#305 (the Ender 3 v2's grate "pushed it all the way into failing
    territory"); obico-server#170 (metallic enclosure walls taken for spaghetti).
    """
    low = rng.uniform(25, 35)
    return Plan(duration=_good_duration(rng), frame=busy(low, low + 18))


@kind("good_glare", GOOD)
def _good_glare(rng: random.Random) -> Plan:
    """Single glare frames scoring 90-100, about one to three an hour.

    BambuStudio#11146: "a glare on the build plate that is giving a false positive".
    """
    return Plan(
        duration=_good_duration(rng),
        frame=spikes(clean(), rng.uniform(1, 3) / 180, 90, 100, "glare"),
    )


# failures: four patterns, each plain, during error bursts and over a busy scene


def _onset_time(rng: random.Random, early: bool) -> float:
    if early:
        return rng.uniform(2, 6) * MINUTE
    return rng.uniform(10, 90) * MINUTE


def _failure_plan(
    rng: random.Random, pattern: str, variant: str, *, early: bool = False
) -> Plan:
    """Draw one failure of `pattern` (plain, `errors` or `supports` variant)."""
    start = _onset_time(rng, early)
    base: FrameFn = clean()
    if variant == "supports":
        low = rng.uniform(28, 35)
        base = busy(low, low + 15)
    pace = "sudden"
    onset = start
    match pattern:
        case "spaghetti":
            minutes = rng.uniform(3, 8)
            level = growing(start, minutes, 30, 95)
            onset, pace = crossing(start, minutes, 30, 95), "gradual"
            shows = "spaghetti"
        case "detachment":
            level = stepped(start, rng.uniform(86, 96))
            shows = "detachment"
        case "knocked_over":
            level = stepped(start, rng.uniform(88, 98))
            shows = rng.choice(("detachment", "spaghetti"))
        case "support_collapse":
            minutes = rng.uniform(1, 3)
            level = growing(start, minutes, 40, 95)
            onset, pace = crossing(start, minutes, 40, 95), "gradual"
            shows = "spaghetti"
        case "layer_shift":
            level = stepped(start, rng.uniform(52, 62))
            shows, pace = "layer_shift", "subtle"
        case _:
            minutes = rng.uniform(6, 15)
            level = growing(start, minutes, 25, 90)
            onset, pace = crossing(start, minutes, 25, 90), "gradual"
            shows = "blob"
    if variant == "supports" and pattern == "layer_shift":
        level = stepped(start, rng.uniform(55, 65))
    frame = failure(base, level, shows)
    if variant == "errors":
        burst_start = onset - rng.uniform(0, 2) * MINUTE
        burst = ((burst_start, burst_start + rng.uniform(2, 5) * MINUTE),)
        frame = with_errors(
            frame, rate=0.05, bursts=burst, burst_rate=rng.uniform(0.5, 0.8)
        )
    return Plan(
        duration=onset + MISS_AFTER + 60,
        frame=frame,
        started=start,
        onset=onset,
        pace=pace,
    )


_FAILURE_DOCS: Final = {
    "spaghetti": (
        "Spaghetti growing over 3-8 minutes (30 to 95; onset at 60). printpal.io/wiki/"
        "spaghetti-and-failed-prints (detachment, then a tangle); moonraker-obico#62 "
        "(3-5 minutes to pause is too slow)."
    ),
    "detachment": (
        "The part comes off the bed: 86-96 from one frame to the next. printpal.io/"
        "wiki/spaghetti-and-failed-prints (bed adhesion causes 80 % of spaghetti)."
    ),
    "detachment_early": (
        "The first layers let go 2-6 minutes in, right after the purge line. printpal"
        ".io/wiki/spaghetti-and-failed-prints (adhesion failure, layers 2-5)."
    ),
    "knocked_over": (
        "A tall part knocked over by the nozzle: 88-98 at once. euriscolabs.com/"
        'manufacturing/3d-printing/anomalies/spaghetti ("part knocked by nozzle"); '
        "printpal.io/wiki/spaghetti-and-failed-prints."
    ),
    "support_collapse": (
        "A support gives way and the part above prints in air: spaghetti from 40 to "
        "95 in 1-3 minutes. euriscolabs.com/manufacturing/3d-printing/anomalies/"
        'spaghetti ("support structure breaks").'
    ),
    "layer_shift": (
        "A subtle, persistent layer shift the detector scores 52-62 (45-65 per "
        "frame). printpal.io/wiki/spaghetti-and-failed-prints (print continues "
        'offset); printhiv3d.com/blog/automatic-print-failure-detection ("a subtle '
        'layer shift is easy to miss").'
    ),
    "blob": (
        "A blob growing on the nozzle over 6-15 minutes (25 to 90; onset at 60). "
        "printpal.io/wiki/spaghetti-and-failed-prints (blob / extruder blob); "
        "wiki.bambulab.com/en/h2/manual/h2s-visual-detection (pile-up detection)."
    ),
}
_VARIANT_DOCS: Final = {
    "": "",
    "errors": (
        " During a burst of detector errors (50-80 % of checks fail for 2-5 min, "
        "from up to 2 min before the onset): openai-python#414, ha-llmvision#188."
    ),
    "supports": (
        " Over an already-moderate scene (supports, 28-50): obico-server#305, "
        "obico-server#170."
    ),
}


def _register_failures() -> None:
    patterns = (
        "spaghetti",
        "detachment",
        "detachment_early",
        "knocked_over",
        "support_collapse",
        "layer_shift",
        "blob",
    )
    for pattern in patterns:
        for variant in ("", "errors", "supports"):
            name = f"fail_{pattern}" + (f"_{variant}" if variant else "")
            early = pattern == "detachment_early"
            base = "detachment" if early else pattern

            def draw(
                rng: random.Random,
                base: str = base,
                variant: str = variant,
                early: bool = early,
            ) -> Plan:
                return _failure_plan(rng, base, variant, early=early)

            _KINDS.append(
                Kind(
                    name=name,
                    group=FAILURE,
                    doc=_FAILURE_DOCS[pattern] + _VARIANT_DOCS[variant],
                    draw=draw,
                )
            )


_register_failures()


@kind("resume_fixed_failure", RESUME_FIXED)
def _resume_fixed_failure(rng: random.Random) -> Plan:
    """Spaghetti at 20-60 min, fixed and resumed; strings (55-80) stay in view.

    The user comes back 10 minutes after the onset, clears it in 2-6 minutes and
    resumes; loose strings stay in view for 2-6 minutes, a scar (30-45) for the
    rest of the print. OctoPrint-Obico#168: resuming "causes ... immediate re-
    pausing".
    """
    start = rng.uniform(20, 60) * MINUTE
    resume = start + MISS_AFTER + rng.uniform(2, 6) * MINUTE
    residue = resume + rng.uniform(2, 6) * MINUTE
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        if start <= t < resume:
            return Truth(_clip(rng.gauss(90, 4)), "spaghetti")
        if resume <= t < residue:
            return Truth(rng.uniform(55, 80), "strings")
        if t >= residue:
            return Truth(rng.uniform(30, 45), "strings")
        return base(t, rng)

    return Plan(
        duration=resume + rng.uniform(30, 60) * MINUTE,
        frame=frame,
        started=start,
        onset=start,
        resume_at=resume,
    )


def _false_resume(rng: random.Random, cause: FrameFn, lead: float) -> Plan:
    resume = rng.uniform(20, 40) * MINUTE
    since = resume - lead
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        return cause(t, rng) if t >= since else base(t, rng)

    return Plan(
        duration=resume + rng.uniform(40, 80) * MINUTE, frame=frame, resume_at=resume
    )


@kind("resume_false_clip", RESUME_FALSE)
def _resume_false_clip(rng: random.Random) -> Plan:
    """A false pause on a bed clip (80-90 in 1 of 4-6 frames), resumed; it stays.

    nberktumer/ha-bambu-lab-p1-spaghetti-detection#17 "False Positive - Repeated
    Pause": after resuming "it would very quickly pause again".
    """
    rate = 1 / rng.uniform(4, 6)
    return _false_resume(rng, spikes(clean(), rate, 80, 90, "clip"), 10 * MINUTE)


@kind("resume_false_supports", RESUME_FALSE)
def _resume_false_supports(rng: random.Random) -> Plan:
    """A false pause on stringy supports (35-55, spikes to 75-80), resumed; they stay.

    nberktumer/ha-bambu-lab-p1-spaghetti-detection#17 (the design still flagged as
    string after resuming); OctoPrint-Obico#168.
    """
    cause = spikes(busy(35, 55), 1 / 5, 75, 80, "strings")
    return _false_resume(rng, cause, 5 * MINUTE)


@kind("resume_false_plateau", RESUME_FALSE)
def _resume_false_plateau(rng: random.Random) -> Plan:
    """A false pause on infill (a plateau of 50-70) that goes on for 20-40 minutes.

    obico-server#54: gyroid infill "constantly pauses the print".
    """
    level = rng.uniform(55, 65)
    length = rng.uniform(20, 40) * MINUTE

    def cause(t: float, rng: random.Random) -> Truth:
        return Truth(_clip(level + rng.uniform(-5, 5)), "infill")

    plan = _false_resume(rng, cause, 8 * MINUTE)
    assert plan.resume_at is not None
    end = plan.resume_at - 8 * MINUTE + length
    inner = plan.frame
    base = clean()

    def frame(t: float, rng: random.Random) -> Truth:
        return inner(t, rng) if t < end else base(t, rng)

    return Plan(duration=plan.duration, frame=frame, resume_at=plan.resume_at)


@kind("resume_false_hand", RESUME_FALSE)
def _resume_false_hand(rng: random.Random) -> Plan:
    """A false pause the user resumes by reaching in: the hand is in view 20-40 s.

    The user's own hand after a resume (BambuStudio#1007, OctoPrint-Obico#168).
    """
    resume = rng.uniform(20, 40) * MINUTE
    hand = resume + rng.uniform(320, 400)
    span = ((hand, hand + rng.uniform(20, 40)),)
    return Plan(
        duration=resume + rng.uniform(30, 60) * MINUTE,
        frame=windows(spikes(clean(), 0.03, 60, 85, "glare"), span, 88, 100, "hand"),
        resume_at=resume,
    )


KINDS: Final[tuple[Kind, ...]] = tuple(_KINDS)
"""Every scenario kind: good prints, failures, resumes."""


def kind_named(name: str) -> Kind:
    """Return the kind called `name`."""
    for item in KINDS:
        if item.name == name:
            return item
    raise KeyError(name)


# --- detector styles -------------------------------------------------------------


def _reported(rng: random.Random, shows: str, named: bool) -> FailureKind:
    if not named:
        return FailureKind.SPAGHETTI
    roll = rng.random()
    options = REPORTED.get(shows, REPORTED["none"])
    for reported, share in options:
        roll -= share
        if roll < 0:
            return reported
    return options[-1][0]


def make_verdict(score: float, kind: FailureKind, detector: str) -> Verdict:
    """A verdict as the OpenAI-compatible detector builds it from an answer."""
    score = float(round(score))
    if score < WARNING_SCORE and kind is not FailureKind.NONE and score < 30:
        kind = FailureKind.NONE
    return Verdict(
        failure_score=score,
        print_quality=min(10, max(1, round(10 - score / 11))),
        warning=score >= WARNING_SCORE,
        pause=score >= PAUSE_SCORE,
        kind=kind,
        reason="replay",
        detector=detector,
        latency_ms=0.0,
    )


@dataclass(frozen=True, kw_only=True)
class Detector:
    """How one detector style turns frames into verdicts (per seed)."""

    style: str
    named: bool
    noise: float
    centre: float
    slope: float
    false_rate: float

    @classmethod
    def draw(cls, style: str, rng: random.Random) -> Detector:
        """This seed's detector of `style`."""
        if style == "binary":
            return cls(
                style=style,
                named=True,
                noise=0.0,
                centre=rng.uniform(58, 64),
                slope=rng.uniform(4, 6),
                false_rate=0.004,
            )
        return cls(
            style=style,
            named=rng.random() < 0.5,
            noise=rng.uniform(4, 7),
            centre=0.0,
            slope=0.0,
            false_rate=0.01,
        )

    def judge(self, truth: Truth, rng: random.Random) -> Observation:
        """One frame's verdict (or none)."""
        if truth.error is not None:
            return NoVerdict(truth.error)
        if self.style == "binary":
            chance = 1.0 / (1.0 + math.exp(-(truth.level - self.centre) / self.slope))
            if rng.random() < self.false_rate:
                chance = 1.0
                truth = Truth(truth.level, "glare")
            if rng.random() < chance:
                reported = _reported(rng, truth.shows, True)
                return make_verdict(rng.uniform(88, 100), reported, "binary")
            return make_verdict(rng.uniform(0, 10), FailureKind.NONE, "binary")
        score = _clip(rng.gauss(truth.level, self.noise))
        shows = truth.shows
        if rng.random() < self.false_rate:
            score, shows = rng.uniform(40, 75), "glare"
        if score < WARNING_SCORE and (score < 30 or shows == "none"):
            reported = FailureKind.NONE
        else:
            reported = _reported(rng, shows, self.named)
        return make_verdict(score, reported, "graded")


def frames(
    plan: Plan, interval: float, rng: random.Random
) -> Iterator[tuple[float, Truth]]:
    """The plan's frames at every check, the first one interval after the start."""
    # a random phase: checks are not aligned with events
    t = rng.uniform(0.2, 1.0) * interval
    while t <= plan.duration:
        yield t, plan.frame(t, rng)
        t += interval


def paced(
    item: Kind, seed: int, interval: float, style: str
) -> Generator[tuple[float, Observation], float | None]:
    """The print's checks, each timed by the delay the consumer sends back.

    The integration's monitor checks sooner while a failure is suspected
    (`detection.scheduler.next_check_delay`); the replay sends that delay after
    each check, so its interval is the option a user sets, not the pace it runs
    at. Sending None (or `next`) keeps `interval`: the checks are then those of
    `stream` (same seeds, same draws, same order)."""
    plan = item.draw(random.Random(f"{item.name}/{seed}"))
    detector = Detector.draw(style, random.Random(f"{style}/{seed}"))
    rng = random.Random(f"{item.name}/{seed}/{interval:g}/{style}")
    t = rng.uniform(0.2, 1.0) * interval
    while t <= plan.duration:
        truth = plan.frame(t, rng)
        delay = yield t, detector.judge(truth, rng)
        t += interval if delay is None else delay


def stream(item: Kind, seed: int, interval: float, style: str) -> Stream:
    """Generate one print's checks (deterministic in its arguments)."""
    plan_rng = random.Random(f"{item.name}/{seed}")
    plan = item.draw(plan_rng)
    detector = Detector.draw(style, random.Random(f"{style}/{seed}"))
    rng = random.Random(f"{item.name}/{seed}/{interval:g}/{style}")
    checks = tuple(
        (t, detector.judge(truth, rng)) for t, truth in frames(plan, interval, rng)
    )
    return Stream(
        kind=item, seed=seed, interval=interval, style=style, plan=plan, checks=checks
    )
