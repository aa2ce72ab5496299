"""Base entity for what the failure-detection monitor shows."""

from __future__ import annotations

from homeassistant.helpers.entity import Entity, EntityDescription

from .detection.monitor import DetectionMonitor
from .entity import device_info


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
        self._attr_device_info = device_info(identity)

    async def async_added_to_hass(self) -> None:
        """Follow the monitor."""
        await super().async_added_to_hass()
        self.async_on_remove(self.monitor.async_add_listener(self.async_write_ha_state))
