"""Fresh pictures from a camera entity, for detection, Prusa Connect and records.

HA's `camera.async_get_image` gives what a camera's `async_camera_image` returns.
Print Sentinel's own camera answers it with its last picture while its source fails
(so HA's camera proxy never answers HTTP 500 for it), and is off for a minute when
it has none. What judges or uploads a picture needs a fresh one, or an error: for
that camera this asks its source directly, even while it is off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from homeassistant.components.camera import async_get_image
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

FRESH_IMAGE = "async_fresh_image"
"""The method of Print Sentinel's camera that returns a fresh picture or None."""


async def async_fresh_picture(
    hass: HomeAssistant, entity_id: str, within: float = 10
) -> bytes:
    """A picture taken now; HomeAssistantError when the camera gives none."""
    component = hass.data.get(DATA_COMPONENT)
    entity = component.get_entity(entity_id) if component is not None else None
    fresh: Callable[[], Awaitable[bytes | None]] | None = getattr(
        entity, FRESH_IMAGE, None
    )
    if fresh is None:
        try:
            picture = await async_get_image(
                hass, entity_id, timeout=max(1, round(within))
            )
        except HomeAssistantError:
            raise
        except Exception as err:  # another integration's camera, any library
            # HA absorbs only its timeout; whatever else the camera raises (a
            # connection error, OSError) is a camera that gave no picture
            raise HomeAssistantError(
                f"{entity_id} gave no picture ({type(err).__name__})"
            ) from err
        return picture.content
    try:
        async with asyncio.timeout(within):
            image = await fresh()
    except TimeoutError as err:
        raise HomeAssistantError(
            f"{entity_id} gave no picture within {within:g} s"
        ) from err
    if not image:
        raise HomeAssistantError(f"{entity_id} has no picture now")
    return image
