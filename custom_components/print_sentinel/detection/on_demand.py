"""Frames from a camera, and the check on demand (the `vision_check` service)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_FRAME_LONG_SIDE,
    DEFAULT_LONG_SIDE,
    DETECTOR_LONG_SIDE,
    DETECTOR_OPENAI,
    FRAME_LONG_SIDES,
)
from ..pictures import async_fresh_picture
from .frames import prepare_frame
from .verdict import Detector, Frame, Verdict


def frame_long_side(detector: str, options: Mapping[str, Any]) -> int:
    """The long side (pixels) of frames for `detector`.

    The OpenAI-compatible detector takes the `frame_long_side` option (one of
    `FRAME_LONG_SIDES`); the others keep the size their service expects.
    """
    default = DETECTOR_LONG_SIDE.get(detector, DEFAULT_LONG_SIDE)
    if detector != DETECTOR_OPENAI:
        return default
    try:
        chosen = int(options.get(CONF_FRAME_LONG_SIDE) or default)
    except TypeError, ValueError:
        return default
    return chosen if chosen in FRAME_LONG_SIDES else default


async def async_take_frame(
    hass: HomeAssistant, camera_entity_id: str, long_side: int
) -> Frame:
    """Take one frame from the camera, downscaled in the executor."""
    image = await async_fresh_picture(hass, camera_entity_id)
    return await hass.async_add_executor_job(
        prepare_frame, image, dt_util.utcnow(), long_side
    )


def check_result(
    verdict_data: dict[str, Any], frames: int, decision: str | None, camera: str
) -> dict[str, Any]:
    """The service's response: the verdict, how many frames, the monitor's decision."""
    return {
        **verdict_data,
        "frames": frames,
        "decision": decision,
        "camera_entity_id": camera,
    }


async def async_check_now(
    hass: HomeAssistant,
    detector: Detector,
    camera_entity_id: str,
    long_side: int,
    frame_count: int,
    recent: list[Frame],
) -> tuple[Verdict, Frame, int]:
    """Check a fresh frame (with up to `frame_count - 1` of the `recent` ones).

    Returns the verdict, the fresh frame and how many frames the detector saw.
    """
    frame = await async_take_frame(hass, camera_entity_id, long_side)
    frames = [*recent[-(frame_count - 1) :], frame] if frame_count > 1 else [frame]
    return await detector.async_analyze(frames), frame, len(frames)


async def async_check_once(
    hass: HomeAssistant,
    camera_entity_id: str,
    detector: Detector,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Check one fresh frame with `detector` when no monitor runs (service override)."""
    frame = await async_take_frame(
        hass, camera_entity_id, frame_long_side(detector.name, options)
    )
    verdict = await detector.async_analyze([frame])
    return check_result(verdict.as_dict(), 1, None, camera_entity_id)
