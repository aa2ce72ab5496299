"""Base entity for what the failure-detection monitor shows."""

from __future__ import annotations

from homeassistant.helpers.entity import Entity, EntityDescription

from .detection.monitor import DetectionMonitor
from .entity import attach_to_device

AVAILABLE_WHILE_PRINTER_OFFLINE = frozenset(
    {"failure_detection", "last_check", "ai_usage", "last_frame", "flagged_frame"}
)
"""Keys of detection entities that stay available while the printer is unreachable.

What Home Assistant itself holds stays true while the printer is offline: the switch
(a setting), when the last check ran, today's AI usage, and the frames with the time
each was taken. What describes the printer's current print (failure score, print
quality, failure detected) is unknown while the printer cannot be reached, so those
entities turn unavailable with the printer's own sensors.
"""


class DetectionEntity(Entity):
    """An entity fed by a printer's detection monitor (not by polling)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, monitor: DetectionMonitor, description: EntityDescription
    ) -> None:
        """Initialise from a description."""
        self.monitor = monitor
        self.entity_description = description
        identity = monitor.coordinator.identity
        self._attr_unique_id = f"{identity.unique_id}_{description.key}"
        attach_to_device(self, monitor.hass, identity)

    @property
    def available(self) -> bool:
        """Unavailable with the printer, unless the value is Home Assistant's own."""
        if self.entity_description.key in AVAILABLE_WHILE_PRINTER_OFFLINE:
            return super().available
        return super().available and self.monitor.coordinator.last_update_success

    async def async_added_to_hass(self) -> None:
        """Follow the monitor, and the printer's coordinator for availability."""
        await super().async_added_to_hass()
        self.async_on_remove(self.monitor.async_add_listener(self.async_write_ha_state))
        if self.entity_description.key not in AVAILABLE_WHILE_PRINTER_OFFLINE:
            self.async_on_remove(
                self.monitor.coordinator.async_add_listener(self.async_write_ha_state)
            )
