"""Binary sensors of a printer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .detection.policy import Decision
from .detection_entity import DetectionEntity
from .entity import PrintSentinelEntity
from .printers.base import PROBLEM_STATES, PrinterSnapshot, PrinterState
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrinterBinarySensorDescription(BinarySensorEntityDescription):
    """Describes a printer binary sensor."""

    is_on_fn: Callable[[PrinterSnapshot], bool]


BINARY_SENSORS: tuple[PrinterBinarySensorDescription, ...] = (
    PrinterBinarySensorDescription(
        key="printing",
        translation_key="printing",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda s: s.state is PrinterState.PRINTING,
    ),
    PrinterBinarySensorDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda s: s.state in PROBLEM_STATES,
    ),
)


FAILURE_DETECTED = BinarySensorEntityDescription(
    key="failure_detected",
    translation_key="failure_detected",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the printer's binary sensors."""
    runtime = entry.runtime_data
    entities: list[BinarySensorEntity] = [
        PrinterBinarySensor(runtime.coordinator, description)
        for description in BINARY_SENSORS
    ]
    if runtime.monitor is not None:
        entities.append(FailureDetectedSensor(runtime.monitor, FAILURE_DETECTED))
    async_add_entities(entities)


class PrinterBinarySensor(PrintSentinelEntity, BinarySensorEntity):
    """A yes/no fact about the printer."""

    entity_description: PrinterBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return the fact from the latest poll."""
        return self.entity_description.is_on_fn(self.coordinator.data)


class FailureDetectedSensor(DetectionEntity, BinarySensorEntity):
    """On once failure detection decided this print has failed."""

    @property
    def is_on(self) -> bool:
        """Return True when the policy decided `failure` for this print."""
        return self.monitor.state.decision is Decision.FAILURE
