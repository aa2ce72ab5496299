"""Timelapse frames and their assembly into a video or an animated image.

Frames are JPEG files numbered in order in a record's `frames/` folder; nothing
holds more than one decoded frame in memory. When ffmpeg exists the frames become
an MP4 (H.264, what phones and browsers play); otherwise Pillow writes an animated
WebP. Both are blocking work: Home Assistant callers run them in the executor.
Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections.abc import Sequence
import logging
from pathlib import Path
import shutil
import subprocess
from typing import Any, Final, cast

from PIL import Image

from .const import TIMELAPSE_LAYER

_LOGGER = logging.getLogger(__name__)

FORMAT_MP4: Final = "mp4"
FORMAT_WEBP: Final = "webp"
WEBP_LONG_SIDE: Final = 640
FFMPEG_TIMEOUT: Final = 600


def frame_name(number: int) -> str:
    """Return the file name of frame `number` (1-based)."""
    return f"{number:06d}.jpg"


def frame_paths(frames_dir: Path) -> list[Path]:
    """Return the frames in order."""
    if not frames_dir.is_dir():
        return []
    return sorted(p for p in frames_dir.iterdir() if p.suffix == ".jpg")


def frame_due(
    *,
    mode: str,
    now: float,
    last_time: float | None,
    interval: float,
    layer: int | None,
    last_layer: int | None,
) -> bool:
    """Whether a timelapse frame is due now.

    Per layer: when the layer the printer reports changed (the first layer seen
    counts). Per interval, or per layer on a printer that reports no layer: when
    `interval` seconds passed since the last frame (the first frame at once).
    """
    if mode == TIMELAPSE_LAYER and layer is not None:
        return layer != last_layer
    return last_time is None or now - last_time >= interval - 0.5


def write_frame(frames_dir: Path, number: int, jpeg: bytes) -> int:
    """Write frame `number`; return the bytes written. OSError if the write fails."""
    frames_dir.mkdir(parents=True, exist_ok=True)
    path = frames_dir / frame_name(number)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(jpeg)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(jpeg)


def thin(frames_dir: Path) -> int:
    """Delete every other frame and renumber the rest; return how many remain."""
    paths = frame_paths(frames_dir)
    for path in paths[1::2]:
        path.unlink(missing_ok=True)
    kept = paths[0::2]
    for number, path in enumerate(kept, start=1):
        target = frames_dir / frame_name(number)
        if path != target:
            path.replace(target)
    return len(kept)


class _LazyFrames:
    """The frames after the first, decoded one at a time as Pillow asks for them.

    Pillow's animated WebP writer walks `n_frames` and `seek()`s each image it is
    given; this object answers with one decoded frame at a time, resized to the
    first frame's size, so memory stays at one frame whatever the print's length.
    """

    mode = "RGB"
    has_transparency_data = False

    def __init__(self, paths: Sequence[Path], size: tuple[int, int]) -> None:
        self._paths = paths
        self._size = size
        self._current: Image.Image | None = None
        self.n_frames = len(paths)
        self.info: dict[str, Any] = {}

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def seek(self, index: int) -> None:
        self._current = _load(self._paths[index], self._size)

    def tell(self) -> int:  # pragma: no cover - Pillow asks only the first image
        return 0

    def getim(self) -> Any:
        assert self._current is not None
        return self._current.getim()


def _load(path: Path, size: tuple[int, int] | None) -> Image.Image:
    """Decode one frame, fitted to `size` (or to WEBP_LONG_SIDE when None)."""
    with Image.open(path) as frame:
        target = size or _fit(frame.size)
        frame.draft("RGB", target)
        image = frame.convert("RGB")
    if image.size != target:
        image = image.resize(target)
    return image


def _fit(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, WEBP_LONG_SIDE / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def assemble_webp(paths: Sequence[Path], out: Path, fps: int) -> None:
    """Write the frames as an animated WebP at `fps` frames per second."""
    if not paths:
        raise ValueError("no frames")
    first = _load(paths[0], None)
    rest = _LazyFrames(paths[1:], first.size)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            first.save(
                fh,
                "WEBP",
                save_all=True,
                append_images=cast(list[Image.Image], [rest] if paths[1:] else []),
                duration=max(1, round(1000 / fps)),
                loop=0,
                quality=70,
                method=4,
            )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def assemble_mp4(binary: str, frames_dir: Path, out: Path, fps: int) -> None:
    """Have ffmpeg encode the numbered frames as H.264 MP4; OSError if it fails."""
    tmp = out.with_name(out.stem + ".tmp.mp4")
    command = [
        binary,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-framerate",
        str(fps),
        "-i",
        str(frames_dir / "%06d.jpg"),
        "-vf",
        "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(tmp),
    ]
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command,
            capture_output=True,
            timeout=FFMPEG_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0 or not tmp.is_file():
            message = result.stderr.decode(errors="replace").strip()[-200:]
            raise OSError(f"ffmpeg exited with {result.returncode}: {message}")
        tmp.replace(out)
    except subprocess.TimeoutExpired as err:
        raise OSError("ffmpeg took too long") from err
    finally:
        tmp.unlink(missing_ok=True)


def assemble(
    folder: Path, frames_dir: Path, ffmpeg: str | None, fps: int
) -> tuple[str, str] | None:
    """Build the timelapse of a record's frames; return (file name, format).

    MP4 through `ffmpeg` when a binary is given and works, otherwise an animated
    WebP. None when there are no frames. The frames are deleted afterwards.
    OSError when nothing could be written.
    """
    paths = frame_paths(frames_dir)
    if not paths:
        return None
    result: tuple[str, str] | None = None
    if ffmpeg and (binary := shutil.which(ffmpeg)):
        try:
            assemble_mp4(binary, frames_dir, folder / "timelapse.mp4", fps)
            result = ("timelapse.mp4", FORMAT_MP4)
        except OSError as err:
            _LOGGER.warning(
                "ffmpeg could not build the timelapse (%s); using WebP", err
            )
    if result is None:
        assemble_webp(paths, folder / "timelapse.webp", fps)
        result = ("timelapse.webp", FORMAT_WEBP)
    shutil.rmtree(frames_dir, ignore_errors=True)
    return result
