"""Sensors of a printer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    REVOLUTIONS_PER_MINUTE,
    EntityCategory,
    UnitOfLength,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import PrintSentinelConfigEntry
from .entity import PrintSentinelEntity
from .printers.base import PrinterSnapshot, PrinterState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PrinterSensorDescription(SensorEntityDescription):
    """Describes a printer sensor."""

    value_fn: Callable[[PrinterSnapshot], StateType | datetime]
    exists_fn: Callable[[PrinterSnapshot], bool] = lambda _: True
    """Checked on the first poll: a backend that never reports a value gets no entity."""


def _estimated_finish(snapshot: PrinterSnapshot) -> datetime | None:
    if (
        snapshot.state is not PrinterState.PRINTING
        or snapshot.job is None
        or snapshot.job.time_remaining is None
    ):
        return None
    finish = dt_util.utcnow() + timedelta(seconds=snapshot.job.time_remaining)
    # a minute's precision: the estimate jitters by seconds on every poll
    return finish.replace(second=0, microsecond=0)


def _temperature(
    key: str, value_fn: Callable[[PrinterSnapshot], float | None], **kwargs: object
) -> PrinterSensorDescription:
    return PrinterSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=value_fn,
        **kwargs,  # type: ignore[arg-type]
    )


SENSORS: tuple[PrinterSensorDescription, ...] = (
    PrinterSensorDescription(
        key="state",
        translation_key="state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in PrinterState],
        value_fn=lambda s: s.state.value,
    ),
    PrinterSensorDescription(
        key="job_name",
        translation_key="job_name",
        value_fn=lambda s: s.job.name if s.job else None,
    ),
    PrinterSensorDescription(
        key="progress",
        translation_key="progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.job.progress if s.job else None,
    ),
    PrinterSensorDescription(
        key="time_remaining",
        translation_key="time_remaining",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda s: s.job.time_remaining if s.job else None,
    ),
    PrinterSensorDescription(
        key="estimated_finish",
        translation_key="estimated_finish",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_estimated_finish,
    ),
    PrinterSensorDescription(
        key="time_printing",
        translation_key="time_printing",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda s: s.job.time_printing if s.job else None,
    ),
    _temperature("nozzle_temperature", lambda s: s.nozzle_temperature),
    _temperature("nozzle_target", lambda s: s.nozzle_target),
    _temperature("bed_temperature", lambda s: s.bed_temperature),
    _temperature("bed_target", lambda s: s.bed_target),
    _temperature(
        "chamber_temperature",
        lambda s: s.chamber_temperature,
        exists_fn=lambda s: s.chamber_temperature is not None,
    ),
    PrinterSensorDescription(
        key="z_height",
        translation_key="z_height",
        device_class=SensorDeviceClass.DISTANCE,
        native_unit_of_measurement=UnitOfLength.MILLIMETERS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.z_height,
    ),
    PrinterSensorDescription(
        key="layer",
        translation_key="layer",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.layer,
        exists_fn=lambda s: s.layer is not None,
    ),
    PrinterSensorDescription(
        key="print_speed",
        translation_key="print_speed",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.print_speed,
    ),
    PrinterSensorDescription(
        key="flow",
        translation_key="flow",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.flow,
    ),
    PrinterSensorDescription(
        key="fan_hotend",
        translation_key="fan_hotend",
        native_unit_of_measurement=REVOLUTIONS_PER_MINUTE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.fan_hotend,
    ),
    PrinterSensorDescription(
        key="fan_print",
        translation_key="fan_print",
        native_unit_of_measurement=REVOLUTIONS_PER_MINUTE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.fan_print,
    ),
    PrinterSensorDescription(
        key="material",
        translation_key="material",
        value_fn=lambda s: s.material,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the printer's sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        PrinterSensor(coordinator, description)
        for description in SENSORS
        if description.exists_fn(coordinator.data)
    )


class PrinterSensor(PrintSentinelEntity, SensorEntity):
    """A value the printer reports."""

    entity_description: PrinterSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value from the latest poll."""
        return self.entity_description.value_fn(self.coordinator.data)
