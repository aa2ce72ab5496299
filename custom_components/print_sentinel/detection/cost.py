"""Token and cost accounting for vision models, at OpenAI's published rules.

Image tokens follow OpenAI's "Images and vision" guide ("Calculating costs"):

* Tile-based models (gpt-4o, gpt-4.1, gpt-4o-mini, ...): `detail="low"` costs a
  fixed base; `detail="high"` first fits the image within 2048x2048, then scales
  it down so the shortest side is at most 768 px, and adds a per-tile cost for every
  512x512 tile covering it. gpt-4o and gpt-4.1 use 85 + 170 per tile; gpt-4o-mini
  bills 2833 + 5667 per tile (at its low token price that is twice what gpt-4o
  charges for an image). `detail="auto"` is estimated as `high`, the upper bound.
* Patch-based models (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini, gpt-5-nano):
  the image is covered by 32x32 px patches; above 1536 patches it is scaled down
  (keeping the aspect ratio, then fitted to whole patches) to at most 1536; the
  patch count is then multiplied by the model's multiplier. `detail` does not
  change the cost of these models.

Prices are list prices in USD per 1M tokens (standard tier, no caching, no batch).
Models that are not in the table (Ollama, LocalAI, vLLM, other providers) are
treated as free and flagged as unpriced, so the UI can say "cost unknown" rather
than show a made-up number. Nothing here imports Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re
from typing import Final

SECONDS_PER_HOUR: Final = 3600

PATCH_SIZE: Final = 32
PATCH_BUDGET: Final = 1536
TILE_SIZE: Final = 512
HIGH_DETAIL_MAX_SIDE: Final = 2048
HIGH_DETAIL_SHORT_SIDE: Final = 768
DETAILS: Final = ("low", "high", "auto")

CHARS_PER_TOKEN: Final = 4
"""OpenAI's rule of thumb for English text, used where no tokenizer is at hand."""
MESSAGE_OVERHEAD_TOKENS: Final = 3
"""Tokens each chat message adds around its content (role and separators)."""
REPLY_PRIMING_TOKENS: Final = 3
"""Tokens every chat completion request adds to prime the assistant's reply."""


@dataclass(frozen=True, kw_only=True)
class TileRule:
    """Images cost a base, plus a per-tile cost at high detail."""

    base: int
    per_tile: int


@dataclass(frozen=True, kw_only=True)
class PatchRule:
    """Images cost their 32x32 patch count times a multiplier, at any detail."""

    multiplier: float


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """List prices of one model (USD per 1M tokens) and its image token rule."""

    input_per_mtok: float
    output_per_mtok: float
    image_rule: TileRule | PatchRule


_TILE_85: Final = TileRule(base=85, per_tile=170)

MODEL_PRICES: Final[dict[str, ModelPrice]] = {
    "gpt-4o": ModelPrice(
        input_per_mtok=2.50, output_per_mtok=10.00, image_rule=_TILE_85
    ),
    "gpt-4o-mini": ModelPrice(
        input_per_mtok=0.15,
        output_per_mtok=0.60,
        image_rule=TileRule(base=2833, per_tile=5667),
    ),
    "gpt-4.1": ModelPrice(
        input_per_mtok=2.00, output_per_mtok=8.00, image_rule=_TILE_85
    ),
    "gpt-4.1-mini": ModelPrice(
        input_per_mtok=0.40,
        output_per_mtok=1.60,
        image_rule=PatchRule(multiplier=1.62),
    ),
    "gpt-4.1-nano": ModelPrice(
        input_per_mtok=0.10,
        output_per_mtok=0.40,
        image_rule=PatchRule(multiplier=2.46),
    ),
    "o4-mini": ModelPrice(
        input_per_mtok=1.10,
        output_per_mtok=4.40,
        image_rule=PatchRule(multiplier=1.72),
    ),
    "gpt-5-mini": ModelPrice(
        input_per_mtok=0.25,
        output_per_mtok=2.00,
        image_rule=PatchRule(multiplier=1.62),
    ),
    "gpt-5-nano": ModelPrice(
        input_per_mtok=0.05,
        output_per_mtok=0.40,
        image_rule=PatchRule(multiplier=2.46),
    ),
}
"""USD list prices per 1M input/output tokens (OpenAI standard tier, 2025-2026)."""

# The default cloud settings. Arithmetic (gpt-4.1-nano, $0.10/$0.40 per 1M tokens):
# a 16:9 camera frame downscaled to 256x144 px is 8x5 = 40 patches x 2.46 = 99 image
# tokens; 3 frames = 297 tokens. With ~270 text tokens (instructions, the frame
# caption and the JSON schema) a check reads ~570 tokens ($0.000057) and writes ~40
# ($0.000016): $0.000073 per check, x 120 checks an hour (every 30 s) = $0.0088 per
# print-hour. A 4:3 camera (256x192, 48 patches) stays below $0.0097.
DEFAULT_MODEL: Final = "gpt-4.1-nano"
DEFAULT_DETAIL: Final = "low"
"""Irrelevant to the patch-based default; keeps tile-based models at 85 tokens."""
DEFAULT_FRAME_COUNT: Final = 3
DEFAULT_LONG_SIDE: Final = 256
DEFAULT_FRAME_SIZE: Final = (256, 144)
"""A 16:9 camera frame after downscaling to DEFAULT_LONG_SIDE."""
DEFAULT_CHECK_INTERVAL: Final = 30
DEFAULT_OUTPUT_TOKENS: Final = 40
"""A typical verdict: four short JSON fields."""
COST_TARGET_PER_PRINT_HOUR: Final = 0.01

_SNAPSHOT: Final = re.compile(r"(.+?)-(?:\d{4}-\d{2}-\d{2}|\d{4}|latest)")


def model_price(model: str) -> ModelPrice | None:
    """Return the list price of `model`, or None for models we do not know.

    Dated snapshots match their family ("gpt-4.1-nano-2025-04-14" is gpt-4.1-nano);
    other suffixes do not ("gpt-4.1-pro" is unknown, not gpt-4.1).
    """
    name = model.strip().lower().removeprefix("openai/")
    if name in MODEL_PRICES:
        return MODEL_PRICES[name]
    if (match := _SNAPSHOT.fullmatch(name)) is not None:
        return MODEL_PRICES.get(match.group(1))
    return None


def is_priced(model: str) -> bool:
    """Return whether we know the list price of `model` (else its cost reads 0)."""
    return model_price(model) is not None


def _ceil_div(value: float, size: int) -> int:
    """Return how many `size` units cover `value`, tolerant of float noise."""
    return max(1, math.ceil(value / size - 1e-9))


def patch_count(width: int, height: int) -> int:
    """Return the 32x32 patches a patch-based model bills for an image.

    Follows the documented algorithm: cover the image with patches; above the
    budget of 1536, shrink by sqrt(32*32*1536 / (w*h)), then shrink further so a
    whole number of patches fits the width (or the height, whichever needs more),
    and cap the result at 1536.
    """
    _check_size(width, height)
    patches = _ceil_div(width, PATCH_SIZE) * _ceil_div(height, PATCH_SIZE)
    if patches <= PATCH_BUDGET:
        return patches
    shrink = math.sqrt(PATCH_SIZE * PATCH_SIZE * PATCH_BUDGET / (width * height))
    scaled_w, scaled_h = width * shrink, height * shrink
    fit = min(
        math.floor(scaled_w / PATCH_SIZE) / (scaled_w / PATCH_SIZE),
        math.floor(scaled_h / PATCH_SIZE) / (scaled_h / PATCH_SIZE),
    )
    scaled_w, scaled_h = scaled_w * fit, scaled_h * fit
    patches = _ceil_div(scaled_w, PATCH_SIZE) * _ceil_div(scaled_h, PATCH_SIZE)
    return min(patches, PATCH_BUDGET)


def tile_count(width: int, height: int) -> int:
    """Return the 512x512 tiles a tile-based model bills at high detail."""
    _check_size(width, height)
    w, h = float(width), float(height)
    if max(w, h) > HIGH_DETAIL_MAX_SIDE:
        scale = HIGH_DETAIL_MAX_SIDE / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > HIGH_DETAIL_SHORT_SIDE:
        scale = HIGH_DETAIL_SHORT_SIDE / min(w, h)
        w, h = w * scale, h * scale
    return _ceil_div(w, TILE_SIZE) * _ceil_div(h, TILE_SIZE)


def image_tokens(model: str, detail: str, width: int, height: int) -> int:
    """Estimate the input tokens one image costs on `model` at `detail`.

    Unknown models are estimated with the gpt-4o rules (their cost is still 0).
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {DETAILS}, not {detail!r}")
    price = model_price(model)
    rule = _TILE_85 if price is None else price.image_rule
    if isinstance(rule, PatchRule):
        return math.ceil(patch_count(width, height) * rule.multiplier)
    if detail == "low":
        _check_size(width, height)
        return rule.base
    return rule.base + rule.per_tile * tile_count(width, height)


def estimate_text_tokens(text: str) -> int:
    """Estimate the tokens of `text` (about 4 characters per token)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def request_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """Return the list price (USD) of one request; 0 for unpriced models."""
    price = model_price(model)
    if price is None:
        return 0.0
    return (
        input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
    ) / 1_000_000


@dataclass(frozen=True, kw_only=True)
class CostEstimate:
    """What a detector setting costs per print-hour."""

    model: str
    priced: bool
    """False for models without a known list price: the cost then reads 0."""
    checks_per_hour: float
    input_tokens_per_check: int
    image_tokens_per_check: int
    output_tokens_per_check: int
    cost_per_check_usd: float
    cost_per_print_hour_usd: float

    @property
    def note(self) -> str:
        """Say how far to trust the figure."""
        if self.priced:
            return "list price"
        return f"no list price known for {self.model}: counted as free"


def estimate_print_hour(
    model: str,
    detail: str,
    frames_per_check: int,
    frame_size: tuple[int, int],
    check_interval_s: float,
    prompt_tokens: int,
    output_tokens: int,
) -> CostEstimate:
    """Estimate the cost of one print-hour of checks.

    `prompt_tokens` counts every input token except the images (instructions,
    captions, the response schema); `frame_size` is (width, height) as sent.
    """
    if check_interval_s <= 0:
        raise ValueError("check_interval_s must be positive")
    if frames_per_check < 1:
        raise ValueError("frames_per_check must be at least 1")
    width, height = frame_size
    per_image = image_tokens(model, detail, width, height)
    image_per_check = per_image * frames_per_check
    input_per_check = prompt_tokens + image_per_check
    per_check = request_cost(model, input_per_check, output_tokens)
    checks = SECONDS_PER_HOUR / check_interval_s
    return CostEstimate(
        model=model,
        priced=is_priced(model),
        checks_per_hour=checks,
        input_tokens_per_check=input_per_check,
        image_tokens_per_check=image_per_check,
        output_tokens_per_check=output_tokens,
        cost_per_check_usd=per_check,
        cost_per_print_hour_usd=per_check * checks,
    )


def cost_per_print_hour(
    model: str,
    detail: str,
    frames_per_check: int,
    frame_size: tuple[int, int],
    check_interval_s: float,
    prompt_tokens: int,
    output_tokens: int,
) -> float:
    """Return the USD cost of one print-hour of checks (0 for unpriced models)."""
    return estimate_print_hour(
        model,
        detail,
        frames_per_check,
        frame_size,
        check_interval_s,
        prompt_tokens,
        output_tokens,
    ).cost_per_print_hour_usd


def _check_size(width: int, height: int) -> None:
    """Reject sizes no image can have."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, not {width}x{height}")
