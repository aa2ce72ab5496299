"""Camera frames made small enough to send, and the last few kept for a check.

`prepare_frame` is synchronous Pillow work: Home Assistant callers run it in the
executor (`hass.async_add_executor_job`). Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime
import hashlib
import io
import math
from typing import Final

from PIL import Image, ImageOps

from .verdict import Frame

DEFAULT_BUFFER_SIZE: Final = 3
SLOW_CAMERA: Final = 3.0
"""A picture that changes within this many times the still threshold after being
called frozen is a slow camera's; one that stayed longer was a real freeze."""
MAX_STILL_SECONDS: Final = 3600.0
"""The longest a slow camera's picture may stay the same before it counts as frozen."""
MAX_FRAME_BYTES: Final = 20 * 1024 * 1024
"""No camera snapshot is larger (the snapshot URL path stops at the same 20 MB)."""
MAX_FRAME_PIXELS: Final = 7680 * 4320
"""8K: more than any printer camera gives. Checked before decoding, so a huge image
(a 12000x12000 PNG thumbnail would take ~830 MiB) is refused without the memory."""


def prepare_frame(
    jpeg: bytes, captured_at: datetime, long_side: int = 768, quality: int = 80
) -> Frame:
    """Decode, orient, downscale and re-encode one camera image.

    The image is turned upright from its EXIF orientation, shrunk so its long side
    is at most `long_side` (never enlarged), and re-encoded as a baseline JPEG at
    `quality` without metadata. Any format Pillow reads is accepted as input.
    Raises ValueError for bytes that are not a decodable image, are larger than
    MAX_FRAME_BYTES or show more than MAX_FRAME_PIXELS (read from the header,
    before anything is decoded).
    """
    if long_side < 1:
        raise ValueError("long_side must be positive")
    if not 1 <= quality <= 95:
        raise ValueError("quality must be within 1-95")
    if not jpeg:
        raise ValueError("empty image")
    if len(jpeg) > MAX_FRAME_BYTES:
        raise ValueError(f"image larger than {MAX_FRAME_BYTES // (1024 * 1024)} MiB")
    try:
        with Image.open(io.BytesIO(jpeg)) as img:
            width, height = img.size
            if width * height > MAX_FRAME_PIXELS:
                raise ValueError(  # noqa: TRY301 - reported like any bad image
                    f"image of {width}x{height} pixels is larger than a camera's"
                )
            if img.format == "JPEG" and max(width, height) > long_side:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster on a Pi.
                # The long side keeps its length whatever the orientation.
                scale = long_side / max(width, height)
                img.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = oriented.convert("RGB")
    except ValueError:
        raise
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError("not a decodable image") from err
    if max(rgb.size) > long_side:
        rgb.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=quality, optimize=True)
    return Frame(
        jpeg=out.getvalue(),
        captured_at=captured_at,
        width=rgb.width,
        height=rgb.height,
    )


class FrameBuffer:
    """The last few frames, oldest first, for detectors that judge a sequence."""

    def __init__(self, size: int = DEFAULT_BUFFER_SIZE) -> None:
        """Keep at most `size` frames."""
        if size < 1:
            raise ValueError("size must be at least 1")
        self._frames: deque[Frame] = deque(maxlen=size)

    @property
    def size(self) -> int:
        """Return how many frames the buffer keeps."""
        maxlen = self._frames.maxlen
        assert maxlen is not None
        return maxlen

    def append(self, frame: Frame) -> None:
        """Add the newest frame, dropping the oldest when full."""
        self._frames.append(frame)

    def clear(self) -> None:
        """Forget every frame (a new print starts)."""
        self._frames.clear()

    def frames(self, count: int | None = None) -> list[Frame]:
        """Return the newest `count` frames (all by default), oldest first."""
        frames = list(self._frames)
        if count is None:
            return frames
        if count < 1:
            return []
        return frames[-count:]

    @property
    def latest(self) -> Frame | None:
        """Return the newest frame, if any."""
        return self._frames[-1] if self._frames else None

    def __len__(self) -> int:
        """Return how many frames are held."""
        return len(self._frames)

    def __iter__(self) -> Iterator[Frame]:
        """Iterate oldest first."""
        return iter(list(self._frames))


class StillPicture:
    """Tells a camera that sends the very same picture, check after check.

    A live camera's frames always differ a little (sensor noise, the moving head);
    byte for byte the same frame for `checks` checks and `seconds` is a picture
    that stopped (a frozen stream, a camera entity that keeps its last image). A
    camera that was called frozen and then showed a new picture is a slow one (a
    time-lapse camera): it gets twice that still stretch before it is called
    frozen again, so it is not reported on and off all night (a real freeze, fixed
    after a long while, teaches nothing).
    """

    def __init__(self, checks: int, seconds: float) -> None:
        """Frozen after `checks` identical frames spanning at least `seconds`."""
        self._checks = checks
        self.seconds = seconds
        """How long a picture may stay the same (grows for a slow camera)."""
        self._digest = b""
        self._since: datetime | None = None
        self._count = 0
        self._frozen = False

    def frozen(self, frame: Frame) -> bool:
        """Take the newest frame; return True while the picture stays the same."""
        digest = hashlib.blake2b(frame.jpeg, digest_size=16).digest()
        if digest != self._digest or self._since is None:
            if self._frozen and self._since is not None:
                still = (frame.captured_at - self._since).total_seconds()
                if still < SLOW_CAMERA * self.seconds:
                    # soon after it was called frozen: a slow camera, not a freeze
                    self.seconds = min(max(self.seconds, 2 * still), MAX_STILL_SECONDS)
            self._digest, self._since, self._count = digest, frame.captured_at, 1
            self._frozen = False
            return False
        self._count += 1
        self._frozen = (
            self._count >= self._checks
            and (frame.captured_at - self._since).total_seconds() >= self.seconds
        )
        return self._frozen

    def reset(self) -> None:
        """Forget the last picture (a new print starts); what was learnt stays."""
        self._digest, self._since, self._count = b"", None, 0
        self._frozen = False
