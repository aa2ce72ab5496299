"""Cost per print-hour: Print Sentinel's default cloud settings vs. the original script.

The original script sent 3 full-size 1920x1080 frames to gpt-4o at high detail
every 200 s. The default sends 3 frames downscaled to a 256 px long side to
gpt-4.1-nano every 30 s. Tokens are measured, not assumed: each setting runs a few
real checks through `OpenAIDetector` (official SDK, httpx) against the loopback
OpenAI simulator, which reports usage as OpenAI does (image tokens by the
documented tile/patch rules, text by length). Cost is tokens x list price x checks
per hour. Run: `python -m benchmarks.cost`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from custom_components.print_sentinel.detection.cost import (
    COST_TARGET_PER_PRINT_HOUR,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_DETAIL,
    DEFAULT_FRAME_COUNT,
    DEFAULT_LONG_SIDE,
    DEFAULT_MODEL,
    SECONDS_PER_HOUR,
    estimate_print_hour,
    request_cost,
)
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
)
from custom_components.print_sentinel.detection.frames import prepare_frame
from custom_components.print_sentinel.detection.verdict import Frame
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene, render_frame

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
    ]


def main() -> None:
    """Print the cost report, one `name: value unit` per line."""
    for line in asyncio.run(run()):
        print(line)


if __name__ == "__main__":
    main()
