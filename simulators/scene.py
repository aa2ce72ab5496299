"""Synthetic camera frames that carry their own ground truth.

The camera simulator renders a frame of a print bed; two calibration squares in the
top-left corner encode how failed the print "looks" (0-100) and which failure kind it
shows. Detector simulators read the squares back, so the whole chain
camera -> downscale/re-encode -> detector -> policy is exercised with real JPEGs.
The encoding survives downscaling to 1/10 and JPEG re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import random

from PIL import Image, ImageDraw, ImageStat

KINDS = (
    "none",
    "spaghetti",
    "detachment",
    "blob",
    "layer_shift",
    "under_extrusion",
    "stringing",
    "warping",
)
_SQUARE = 0.12  # side of a calibration square, as a fraction of the width
_STEP = 255 / (len(KINDS) - 1)


@dataclass(frozen=True)
class Scene:
    """What a frame shows."""

    failure: int
    """0 (perfect print) to 100 (certain failure)."""
    kind: str = "none"


def render_frame(
    scene: Scene,
    width: int = 1280,
    height: int = 720,
    seed: int = 0,
    *,
    moving: bool = False,
) -> bytes:
    """Render a JPEG of a print bed showing `scene`.

    `moving`: the print head is drawn where `seed` puts it, so frames of a live
    camera differ from one `seed` to the next, as a real camera's do.
    """
    if scene.kind not in KINDS:
        raise ValueError(f"unknown kind {scene.kind!r}")
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (38, 40, 46))
    draw = ImageDraw.Draw(img)
    # bed, and the part being printed
    bed_top = int(height * 0.62)
    draw.rectangle((0, bed_top, width, height), fill=(70, 70, 72))
    cx = width // 2
    part_w, part_h = width // 6, int(height * 0.25)
    if scene.kind == "detachment":
        cx += width // 5
    draw.rectangle(
        (cx - part_w // 2, bed_top - part_h, cx + part_w // 2, bed_top),
        fill=(230, 120, 30),
    )
    if scene.kind in {"spaghetti", "stringing"}:
        for _ in range(10 + scene.failure):
            x0, y0 = rng.randrange(width), rng.randrange(bed_top - part_h, height)
            x1, y1 = x0 + rng.randrange(-120, 120), y0 + rng.randrange(-80, 80)
            draw.line((x0, y0, x1, y1), fill=(240, 140, 40), width=3)
    elif scene.kind == "blob":
        r = 20 + scene.failure
        draw.ellipse(
            (cx - r, bed_top - part_h - r, cx + r, bed_top - part_h + r),
            fill=(200, 100, 20),
        )
    if moving:
        head = int(width * 0.05)
        x = 2 * int(width * _SQUARE) + (seed * 97) % (width - 3 * head)
        y = max(bed_top - part_h - 3 * head, int(width * _SQUARE) + head)
        draw.rectangle((x, y, x + head, y + head), fill=(160, 160, 170))
    side = int(width * _SQUARE)
    level = round(max(0, min(100, scene.failure)) * 2.55)
    kind_level = round(KINDS.index(scene.kind) * _STEP)
    draw.rectangle((0, 0, side, side), fill=(level, level, level))
    draw.rectangle((side, 0, 2 * side, side), fill=(kind_level, kind_level, kind_level))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _patch_level(img: Image.Image, cx: float, cy: float) -> float:
    width, height = img.size
    x, y = int(cx * width), int(cy * height)
    r = max(1, int(width * _SQUARE / 6))
    box = img.crop((x - r, y - r, x + r + 1, y + r + 1)).convert("L")
    return float(ImageStat.Stat(box).mean[0])


def read_scene(jpeg: bytes) -> Scene:
    """Read back what `render_frame` encoded (after any downscale or re-encode).

    Raises ValueError for bytes that are not an image.
    """
    try:
        img = Image.open(io.BytesIO(jpeg))
        img.load()
    except Exception as err:
        raise ValueError("not an image") from err
    width, height = img.size
    half = _SQUARE / 2
    ys = half * width / height
    failure = round(_patch_level(img, half, ys) / 2.55)
    kind_index = round(_patch_level(img, 3 * half, ys) / _STEP)
    kind = KINDS[max(0, min(len(KINDS) - 1, kind_index))]
    return Scene(failure=max(0, min(100, failure)), kind=kind)
