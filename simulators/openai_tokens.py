"""Usage as OpenAI's API bills it, written from OpenAI's documentation alone.

The simulator reports `usage` from this table, not from the integration's own
`detection/cost.py`, so the benchmark's "estimated vs measured" compares two
independent readings of the documentation (tests/test_openai_tokens.py checks they
agree on the documented examples).

From the "Images and vision" guide, "Calculating costs":

* Patch models (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini, gpt-5-nano): the
  image is cut into 32 x 32 px patches. Above 1536 patches it is scaled down so
  that it fits 1536 patches: by sqrt(32^2 * 1536 / (width * height)), then again so
  a whole number of patches fits across the side that needs it. The patches are
  multiplied by the model's multiplier (1.62, 2.46, 1.72, ...). Detail does not
  matter. Examples: 1024 x 1024 is 1024 patches; 1800 x 2400 is 1056 x 1408, 1452.
* Tile models (gpt-4o, gpt-4.1, gpt-4o-mini): `low` costs the base tokens whatever
  the size. `high` fits the image within 2048 x 2048, scales it so its shortest side
  is 768 px, and adds the tile tokens for each 512 px tile. Examples (gpt-4o, base
  85, tile 170): 1024 x 1024 high is 768 x 768, 4 tiles, 765 tokens; 2048 x 4096
  high is 768 x 1536, 6 tiles, 1105 tokens; 4096 x 8192 low is 85 tokens.
* Text: about four characters a token in English.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Final


@dataclass(frozen=True)
class Patches:
    """A patch model: tokens are patches x multiplier."""

    multiplier: float


@dataclass(frozen=True)
class Tiles:
    """A tile model: base tokens, plus tile tokens per 512 px tile at high."""

    base: int
    tile: int


# the documentation's table of image token rules, per model family
MODELS: Final[dict[str, Patches | Tiles]] = {
    "gpt-4.1-mini": Patches(1.62),
    "gpt-4.1-nano": Patches(2.46),
    "o4-mini": Patches(1.72),
    "gpt-5-mini": Patches(1.62),
    "gpt-5-nano": Patches(2.46),
    "gpt-4o": Tiles(85, 170),
    "gpt-4.1": Tiles(85, 170),
    "gpt-4o-mini": Tiles(2833, 5667),
}
FALLBACK: Final = Tiles(85, 170)
"""Models not in the table are billed like gpt-4o here."""

DETAILS: Final = ("low", "high", "auto")
"""`auto` is billed like `high` here (the model may choose either)."""
MESSAGE_TOKENS: Final = 3
"""Tokens each chat message adds around its content (OpenAI's cookbook)."""
REPLY_TOKENS: Final = 3
"""Tokens every request adds to prime the reply (OpenAI's cookbook)."""

PATCH: Final = 32
MAX_PATCHES: Final = 1536
TILE: Final = 512


def rule(model: str) -> Patches | Tiles:
    """The model's rule; a dated snapshot (`gpt-4.1-nano-2025-04-14`) is its family."""
    for name in sorted(MODELS, key=len, reverse=True):
        rest = model.removeprefix(name)
        if rest != model and (rest == "" or (rest[:1] == "-" and rest[1:2].isdigit())):
            return MODELS[name]
    return FALLBACK


def patches(width: int, height: int) -> int:
    """32 px patches of an image, after the documented scaling to 1536."""
    count = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if count <= MAX_PATCHES:
        return count
    shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
    w, h = width * shrink, height * shrink
    # then a whole number of patches across the side that needs it
    shrink = min(
        math.floor(w / PATCH) / (w / PATCH), math.floor(h / PATCH) / (h / PATCH)
    )
    w, h = int(w * shrink), int(h * shrink)
    return min(MAX_PATCHES, math.ceil(w / PATCH) * math.ceil(h / PATCH))


def tiles(width: int, height: int) -> int:
    """512 px tiles of an image at high detail, after the documented scaling."""
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        w, h = w * 2048 / max(w, h), h * 2048 / max(w, h)
    if min(w, h) > 768:
        w, h = w * 768 / min(w, h), h * 768 / min(w, h)
    return math.ceil(int(w) / TILE) * math.ceil(int(h) / TILE)


def image_tokens(model: str, detail: str, width: int, height: int) -> int:
    """Tokens one image of `width` x `height` costs on `model` at `detail`."""
    billing = rule(model)
    if isinstance(billing, Patches):
        return math.ceil(patches(width, height) * billing.multiplier)
    if detail == "low":
        return billing.base
    return billing.base + billing.tile * tiles(width, height)


def text_tokens(text: str) -> int:
    """Tokens of a text: about four characters each."""
    return math.ceil(len(text) / 4)
