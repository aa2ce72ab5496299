"""Switch: failure detection on or off for the current print."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .detection_entity import DetectionEntity
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 0

FAILURE_DETECTION = SwitchEntityDescription(
    key="failure_detection",
    translation_key="failure_detection",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switch when failure detection is configured."""
    if (monitor := entry.runtime_data.monitor) is None:
        return
    async_add_entities([FailureDetectionSwitch(monitor, FAILURE_DETECTION)])


class FailureDetectionSwitch(DetectionEntity, SwitchEntity):
    """Off: no checks for the rest of this print. Every new print turns it on."""

    @property
    def is_on(self) -> bool:
        """Return whether detection watches the current print."""
        return self.monitor.state.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Watch the current print again."""
        self.monitor.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop watching the current print."""
        self.monitor.async_set_enabled(False)
