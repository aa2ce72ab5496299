"""Cost per print-hour: Print Sentinel's default cloud settings vs. the original script.

The original script sent 3 full-size 1920x1080 frames to gpt-4o at high detail
every 200 s. The default sends 3 frames downscaled to a 256 px long side to
gpt-4.1-nano every 30 s. Tokens are measured, not assumed: each setting runs a few
real checks through `OpenAIDetector` (official SDK, httpx) against the loopback
OpenAI simulator, which reports usage as OpenAI does (image tokens by the
documented tile/patch rules, text by length). Cost is tokens x list price x checks
per hour.

The frame-size alternatives (`ALTERNATIVES`: one frame at 512 or 768 px, two at
384, three at 256, at low and high detail) are measured the same way, on
gpt-4.1-nano (patches: detail does not matter) and gpt-4o-mini (tiles: it does),
with what a model gets to see of a bed: millimetres of a 250 mm bed per pixel and
per image unit (a 32 px patch, or a 512 px tile; low detail is one 512 px tile for
the whole picture). `RECOMMENDED_LONG_SIDE` follows from it. Run:
`python -m benchmarks.cost [--write-readme]`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import sys

import httpx

from custom_components.print_sentinel.detection.cost import (
    COST_TARGET_PER_PRINT_HOUR,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_DETAIL,
    DEFAULT_FRAME_COUNT,
    DEFAULT_LONG_SIDE,
    DEFAULT_MODEL,
    PATCH_SIZE,
    SECONDS_PER_HOUR,
    TILE_SIZE,
    PatchRule,
    estimate_print_hour,
    model_price,
    request_cost,
)
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
)
from custom_components.print_sentinel.detection.frames import prepare_frame
from custom_components.print_sentinel.detection.verdict import Frame
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene, render_frame

from . import readme

API_KEY = "sk-benchmark-0000000000000000"
CHECKS = 6
"""Checks measured per setting (answers vary in length)."""
ORIGINAL_REFERENCE_USD = 0.16
"""The original script's cost per print-hour as estimated before this project."""


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One way of checking a print."""

    name: str
    model: str
    detail: str
    frames: int
    long_side: int
    interval_s: float
    camera: tuple[int, int] = (1920, 1080)


DEFAULT = Setting(
    name="default",
    model=DEFAULT_MODEL,
    detail=DEFAULT_DETAIL,
    frames=DEFAULT_FRAME_COUNT,
    long_side=DEFAULT_LONG_SIDE,
    interval_s=DEFAULT_CHECK_INTERVAL,
)
DEFAULT_4_3 = Setting(
    name="default_4_3_camera",
    model=DEFAULT_MODEL,
    detail=DEFAULT_DETAIL,
    frames=DEFAULT_FRAME_COUNT,
    long_side=DEFAULT_LONG_SIDE,
    interval_s=DEFAULT_CHECK_INTERVAL,
    camera=(1600, 1200),
)
ORIGINAL = Setting(
    name="original",
    model="gpt-4o",
    detail="high",
    frames=3,
    long_side=1920,
    interval_s=200,
)
PLACEHOLDER = Setting(
    name="placeholder",
    model="gpt-4.1-nano",
    detail="low",
    frames=3,
    long_side=768,
    interval_s=20,
)
"""The first draft of the defaults (3 frames of 768 px every 20 s)."""

BED_MM = 250.0
"""A bed-sized picture: the bed spans the frame's long side (a 250 mm bed)."""
FAILURE_MM = 10.0
"""The smallest failure worth pausing for: a clump of spaghetti or a blob of 1 cm
(a layer shift of a few mm shows along a whole wall, so it is larger)."""
RECOMMENDED_LONG_SIDE = 512
"""One 32 px patch then covers about 16 mm of the bed: a 1 cm failure fills most
of one, where at 256 px (31 mm a patch) it is a third of one and blends into the
part. It costs about what three frames of 256 px did; the policy, not the frame
count, looks across checks."""
RECOMMENDED_FRAMES = 1
ALTERNATIVES: tuple[tuple[int, int], ...] = ((1, 512), (1, 768), (2, 384), (3, 256))
"""(frames, long side) of the alternatives."""
ALTERNATIVE_MODELS: tuple[tuple[str, str], ...] = (
    ("gpt-4.1-nano", "low"),
    ("gpt-4o-mini", "low"),
    ("gpt-4o-mini", "high"),
)
TABLE = readme.Table("cost", "scripts/bench cost --write-readme")


@dataclass(frozen=True, kw_only=True)
class Measured:
    """Average tokens of a setting's checks and what they cost."""

    setting: Setting
    input_tokens: float
    image_tokens: float
    output_tokens: float
    estimated_per_hour: float

    @property
    def checks_per_hour(self) -> float:
        """Checks in one print-hour."""
        return SECONDS_PER_HOUR / self.setting.interval_s

    @property
    def per_check(self) -> float:
        """USD per check at list prices."""
        return request_cost(
            self.setting.model, round(self.input_tokens), 0
        ) + request_cost(self.setting.model, 0, round(self.output_tokens))

    @property
    def per_hour(self) -> float:
        """USD per print-hour."""
        return self.per_check * self.checks_per_hour


def _frames(setting: Setting) -> list[Frame]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    width, height = setting.camera
    return [
        prepare_frame(
            render_frame(Scene(5 * index), width, height, seed=index),
            start + timedelta(seconds=setting.interval_s * index),
            long_side=setting.long_side,
        )
        for index in range(setting.frames)
    ]


async def measure(
    setting: Setting, sim: OpenAISimulator, client: httpx.AsyncClient
) -> Measured:
    """Run CHECKS real checks of `setting` against the simulator."""
    detector = OpenAIDetector(
        client,
        API_KEY,
        sim.url,
        setting.model,
        detail=setting.detail,
        max_frames=setting.frames,
    )
    frames = _frames(setting)
    usages = [(await detector.async_analyze(frames)).usage for _ in range(CHECKS)]
    input_estimate, _ = detector.estimate_input_tokens(frames)
    image_tokens = sum(u.image_tokens_estimate for u in usages) / CHECKS
    output = sum(u.output_tokens for u in usages) / CHECKS
    estimate = estimate_print_hour(
        setting.model,
        setting.detail,
        setting.frames,
        (frames[0].width, frames[0].height),
        setting.interval_s,
        input_estimate - round(image_tokens),
        round(output),
    )
    return Measured(
        setting=setting,
        input_tokens=sum(u.input_tokens for u in usages) / CHECKS,
        image_tokens=image_tokens,
        output_tokens=output,
        estimated_per_hour=estimate.cost_per_print_hour_usd,
    )


def alternatives() -> list[Setting]:
    """Every frame-size alternative, on each model and detail compared."""
    return [
        Setting(
            name=f"{frames}x{side}_{model}_{detail}",
            model=model,
            detail=detail,
            frames=frames,
            long_side=side,
            interval_s=DEFAULT_CHECK_INTERVAL,
        )
        for model, detail in ALTERNATIVE_MODELS
        for frames, side in ALTERNATIVES
    ]


def bed_view(setting: Setting, width: int, height: int) -> float:
    """Millimetres of the bed per pixel, as the model sees the picture.

    Patch models see the picture as sent (up to their patch budget); tile models
    see it within 512 x 512 at low detail, and as sent (up to 2048, short side 768)
    at high detail.
    """
    long_side = float(max(width, height))
    price = model_price(setting.model)
    if price is not None and isinstance(price.image_rule, PatchRule):
        seen = min(
            long_side, PATCH_SIZE * math.sqrt(1536 * long_side / min(width, height))
        )
    elif setting.detail == "low":
        seen = min(long_side, float(TILE_SIZE))
    else:
        seen = min(long_side, 2048.0)
    return BED_MM / seen


async def measure_alternatives(
    sim: OpenAISimulator, client: httpx.AsyncClient
) -> list[tuple[Measured, float]]:
    """Measure every alternative; with what each shows of the bed."""
    out = []
    for setting in alternatives():
        measured = await measure(setting, sim, client)
        frame = _frames(setting)[0]
        out.append((measured, bed_view(setting, frame.width, frame.height)))
    return out


def alternative_lines(measured: Sequence[tuple[Measured, float]]) -> list[str]:
    """One `name: value unit (...)` line per alternative."""
    lines = []
    for item, per_pixel in measured:
        setting = item.setting
        lines.append(
            f"cost.alternative.{setting.name}_per_print_hour: {item.per_hour:.4f} USD "
            f"({item.image_tokens:.0f} image tokens a check, {per_pixel:.2f} mm a "
            f"pixel as seen, a {FAILURE_MM:g} mm failure is "
            f"{FAILURE_MM / per_pixel:.0f} px)"
        )
    return lines


def readme_table(measured: Sequence[tuple[Measured, float]]) -> list[str]:
    """The README's markdown table of the alternatives."""
    lines = [
        f"A check every {DEFAULT_CHECK_INTERVAL} s, a 16:9 camera, a {BED_MM:g} mm "
        "bed across the picture; USD per print-hour at list prices; pixels a "
        f"{FAILURE_MM:g} mm failure spans as the model sees the picture:",
        "",
        "| Frames x long side | Model, detail | Image tokens a check | USD per "
        f"print-hour | px of a {FAILURE_MM:g} mm failure |",
        "|---|---|---|---|---|",
    ]
    for item, per_pixel in measured:
        setting = item.setting
        mark = (
            "**"
            if setting.frames == RECOMMENDED_FRAMES
            and setting.long_side == RECOMMENDED_LONG_SIDE
            and setting.model == DEFAULT_MODEL
            else ""
        )
        default = (
            " (default)"
            if setting.frames == DEFAULT_FRAME_COUNT
            and setting.long_side == DEFAULT_LONG_SIDE
            and setting.model == DEFAULT_MODEL
            and setting.detail == DEFAULT_DETAIL
            else ""
        )
        lines.append(
            f"| {mark}{setting.frames} x {setting.long_side} px{mark}{default} | "
            f"{setting.model}, {setting.detail} | {item.image_tokens:.0f} | "
            f"{item.per_hour:.4f} | {FAILURE_MM / per_pixel:.0f} |"
        )
    return lines


async def run_alternatives() -> list[tuple[Measured, float]]:
    """Measure the alternatives against a fresh simulator."""
    async with (
        OpenAISimulator(api_key=API_KEY, false_positive_rate=0.0) as sim,
        httpx.AsyncClient() as client,
    ):
        return await measure_alternatives(sim, client)


async def run() -> list[str]:
    """Measure every setting; return the report lines."""
    async with (
        OpenAISimulator(api_key=API_KEY, false_positive_rate=0.0) as sim,
        httpx.AsyncClient() as client,
    ):
        default = await measure(DEFAULT, sim, client)
        four_three = await measure(DEFAULT_4_3, sim, client)
        original = await measure(ORIGINAL, sim, client)
        placeholder = await measure(PLACEHOLDER, sim, client)
        measured = await measure_alternatives(sim, client)

    def ratio(ours: float, theirs: float) -> str:
        return f"ratio {ours / theirs:.2f}" if theirs else "ratio n/a"

    d, o = default, original
    meets = (
        d.per_hour <= COST_TARGET_PER_PRINT_HOUR
        and four_three.per_hour <= COST_TARGET_PER_PRINT_HOUR
        and d.checks_per_hour >= 120
    )
    return [
        f"cost.default_per_print_hour: {d.per_hour:.4f} USD "
        f"(original: {o.per_hour:.4f} USD, {ratio(d.per_hour, o.per_hour)})",
        f"cost.default_checks_per_hour: {d.checks_per_hour:.0f} checks "
        f"(original: {o.checks_per_hour:.0f} checks, "
        f"{ratio(d.checks_per_hour, o.checks_per_hour)})",
        f"cost.default_per_check: {d.per_check:.6f} USD "
        f"(original: {o.per_check:.6f} USD, {ratio(d.per_check, o.per_check)})",
        f"cost.default_input_tokens_per_check: {d.input_tokens:.0f} tokens "
        f"(original: {o.input_tokens:.0f} tokens, "
        f"{ratio(d.input_tokens, o.input_tokens)})",
        f"cost.default_image_tokens_per_check: {d.image_tokens:.0f} tokens "
        f"(original: {o.image_tokens:.0f} tokens, "
        f"{ratio(d.image_tokens, o.image_tokens)})",
        f"cost.default_output_tokens_per_check: {d.output_tokens:.0f} tokens "
        f"(original: {o.output_tokens:.0f} tokens, "
        f"{ratio(d.output_tokens, o.output_tokens)})",
        f"cost.default_frames_per_check: {DEFAULT.frames} frames "
        f"(original: {ORIGINAL.frames} frames, {DEFAULT.long_side} px vs "
        f"{ORIGINAL.long_side} px long side)",
        f"cost.default_4_3_camera_per_print_hour: {four_three.per_hour:.4f} USD "
        f"(target: {COST_TARGET_PER_PRINT_HOUR:.4f} USD, "
        f"{ratio(four_three.per_hour, COST_TARGET_PER_PRINT_HOUR)})",
        f"cost.default_estimated_per_print_hour: {d.estimated_per_hour:.4f} USD "
        f"(measured: {d.per_hour:.4f} USD, {ratio(d.estimated_per_hour, d.per_hour)})",
        f"cost.original_per_print_hour: {o.per_hour:.4f} USD "
        f"(reference: {ORIGINAL_REFERENCE_USD:.4f} USD, "
        f"{ratio(o.per_hour, ORIGINAL_REFERENCE_USD)})",
        f"cost.placeholder_per_print_hour: {placeholder.per_hour:.4f} USD "
        f"(target: {COST_TARGET_PER_PRINT_HOUR:.4f} USD, "
        f"{ratio(placeholder.per_hour, COST_TARGET_PER_PRINT_HOUR)})",
        f"cost.default_meets_target: {'yes' if meets else 'no'} "
        f"(<= {COST_TARGET_PER_PRINT_HOUR} USD per print-hour, >= 120 checks)",
        *alternative_lines(measured),
        f"cost.recommended_long_side: {RECOMMENDED_LONG_SIDE} px "
        f"({RECOMMENDED_FRAMES} frame a check; a 32 px patch covers "
        f"{BED_MM / RECOMMENDED_LONG_SIDE * PATCH_SIZE:.0f} mm of the bed, a "
        f"{FAILURE_MM:g} mm failure is {FAILURE_MM * RECOMMENDED_LONG_SIDE / BED_MM:.0f}"
        " px)",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the cost report, one `name: value unit` per line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--write-readme",
        "--readme",
        dest="readme",
        action="store_true",
        help="write the README's cost table",
    )
    args = parser.parse_args(argv)
    sys.stdout.write("\n".join(asyncio.run(run())) + "\n")
    if args.readme:
        TABLE.write(readme_table(asyncio.run(run_alternatives())))


if __name__ == "__main__":
    main()
