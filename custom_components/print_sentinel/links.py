"""Where a printer's parts are in Home Assistant, filled in as they are added."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class EntityLinks:
    """Ids the events and notifications of one printer point to.

    One object per config entry, shared by reference: the setup fills in the device
    and the camera, the image entities their own ids once they are added; the
    detection actions and the recorder read them when they fire an event.
    """

    device_id: str | None = None
    """The printer's device (Print Sentinel's own, or the linked one)."""
    camera_entity_id: str | None = None
    """Print Sentinel's camera entity of the printer."""
    flagged_frame_entity_id: str | None = None
    """The image entity showing the frame of the last warning or failure."""
    chart_entity_id: str | None = None
    """The image entity showing the last print's detection chart."""
