"""Image entities: the last analysed frame and the frame that raised the alarm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .detection.monitor import DetectionMonitor, MonitorState
from .detection.verdict import Frame
from .detection_entity import DetectionEntity
from .records.image import async_setup_record_images
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class DetectionImageDescription(ImageEntityDescription):
    """Describes a frame image."""

    frame_fn: Callable[[MonitorState], Frame | None]


IMAGES: tuple[DetectionImageDescription, ...] = (
    DetectionImageDescription(
        key="last_frame",
        translation_key="last_frame",
        frame_fn=lambda state: state.last_frame,
    ),
    DetectionImageDescription(
        key="flagged_frame",
        translation_key="flagged_frame",
        frame_fn=lambda state: state.flagged_frame,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the frame images when failure detection is on."""
    async_setup_record_images(hass, entry, async_add_entities)  # records: chart
    if (monitor := entry.runtime_data.monitor) is None:
        return
    async_add_entities(
        DetectionImage(hass, monitor, description) for description in IMAGES
    )


class DetectionImage(DetectionEntity, ImageEntity):
    """A JPEG frame the detector looked at."""

    _attr_content_type = "image/jpeg"
    entity_description: DetectionImageDescription

    def __init__(
        self,
        hass: HomeAssistant,
        monitor: DetectionMonitor,
        description: DetectionImageDescription,
    ) -> None:
        """Initialise."""
        DetectionEntity.__init__(self, monitor, description)
        ImageEntity.__init__(self, hass)

    @property
    def _frame(self) -> Frame | None:
        return self.entity_description.frame_fn(self.monitor.state)

    @property
    def image_last_updated(self) -> datetime | None:
        """When the frame was taken."""
        frame = self._frame
        return frame.captured_at if frame else None

    @property
    def entity_picture(self) -> str | None:
        """Link to the frame, or none before there is one (never a broken link)."""
        return super().entity_picture if self._frame is not None else None

    async def async_added_to_hass(self) -> None:
        """Let the monitor name this entity in its events."""
        await super().async_added_to_hass()
        if self.entity_description.key == "flagged_frame":
            self.monitor.links.flagged_frame_entity_id = self.entity_id

    async def async_image(self) -> bytes | None:
        """Return the frame."""
        frame = self._frame
        return frame.jpeg if frame else None
