"""A camera picture turned by its EXIF orientation is sent the same way up,
whatever its size."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from custom_components.print_sentinel.prusa_connect import prepare_snapshot


def _jpeg(width: int, height: int, orientation: int, noise: bool) -> bytes:
    if noise:
        img = Image.frombytes(
            "RGB", (width, height), hashlib.shake_256(b"x").digest(width * height * 3)
        )
    else:
        img = Image.new("RGB", (width, height), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=95, exif=exif)
    return out.getvalue()


def test_small_and_large_rotated_jpegs_are_shown_the_same_way() -> None:
    small, sw, sh = prepare_snapshot(_jpeg(640, 480, 6, noise=False))
    large, lw, lh = prepare_snapshot(_jpeg(2560, 1920, 6, noise=True))
    with Image.open(io.BytesIO(small)) as s, Image.open(io.BytesIO(large)) as big:
        so = s.getexif().get(0x0112)
        lo = big.getexif().get(0x0112)
    print("small", (sw, sh), so, "large", (lw, lh), lo)
    # a viewer honouring EXIF shows the small one portrait; the large must be too
    small_portrait = (so in (5, 6, 7, 8) and sw > sh) or sh > sw
    large_portrait = (lo in (5, 6, 7, 8) and lw > lh) or lh > lw
    assert small_portrait == large_portrait
