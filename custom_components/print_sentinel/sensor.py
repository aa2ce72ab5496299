"""Sensors of a printer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    Platform,
    UnitOfLength,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import PrinterCoordinator
from .detection.monitor import DetectionMonitor, MonitorState
from .detection_entity import DetectionEntity
from .entity import PrintSentinelEntity, async_remove_stale_entities, attach_to_device
from .printers.base import (
    MAX_TEXT,
    Capability,
    PrinterSnapshot,
    PrinterState,
    bounded_text,
)
from .prusa_connect import PrusaConnectUploader
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 0
FINISH_SETTLE = timedelta(minutes=1)
"""The estimated finish changes only when the estimate moves by this much: it
jitters by seconds on every poll, and each change would be a logbook entry."""


@dataclass(frozen=True, kw_only=True)
class PrinterSensorDescription(SensorEntityDescription):
    """Describes a printer sensor."""

    value_fn: Callable[[PrinterSnapshot], StateType | datetime]
    exists_fn: Callable[[frozenset[Capability]], bool] = lambda _: True
    """Checked against the backend's capabilities at setup (not against a poll, so an
    offline printer gets its entities): a value the backend never reports gets none."""


ESTIMATED_FINISH = "estimated_finish"


def _requires(capability: Capability) -> Callable[[frozenset[Capability]], bool]:
    """Return an `exists_fn` true for backends with `capability`."""
    return lambda capabilities: capability in capabilities


def _estimated_finish(snapshot: PrinterSnapshot) -> datetime | None:
    if (
        snapshot.state is not PrinterState.PRINTING
        or snapshot.job is None
        or snapshot.job.time_remaining is None
    ):
        return None
    # the exact estimate; `EstimatedFinishSensor` shows it to the minute
    return dt_util.utcnow() + timedelta(seconds=snapshot.job.time_remaining)


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
        value_fn=lambda s: bounded_text(s.job.name) if s.job else None,
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
        key=ESTIMATED_FINISH,
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
        exists_fn=_requires(Capability.CHAMBER),
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
        exists_fn=_requires(Capability.LAYER),
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
        exists_fn=_requires(Capability.FAN_RPM),
    ),
    PrinterSensorDescription(
        key="fan_print",
        translation_key="fan_print",
        native_unit_of_measurement=REVOLUTIONS_PER_MINUTE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.fan_print,
        exists_fn=_requires(Capability.FAN_RPM),
    ),
    PrinterSensorDescription(
        key="fan_speed",
        translation_key="fan_speed",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.fan_speed,
        exists_fn=_requires(Capability.FAN_SPEED),
    ),
    PrinterSensorDescription(
        key="material",
        translation_key="material",
        value_fn=lambda s: s.material,
        exists_fn=_requires(Capability.MATERIAL),
    ),
)


@dataclass(frozen=True, kw_only=True)
class DetectionSensorDescription(SensorEntityDescription):
    """Describes a failure-detection sensor."""

    value_fn: Callable[[MonitorState], StateType | datetime]
    attributes_fn: Callable[[MonitorState], dict[str, Any]] | None = None


DETECTION_SENSORS: tuple[DetectionSensorDescription, ...] = (
    DetectionSensorDescription(
        key="failure_score",
        translation_key="failure_score",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda m: m.last_verdict.failure_score if m.last_verdict else None,
        attributes_fn=lambda m: {
            "kind": m.last_verdict.kind.value if m.last_verdict else None,
            "reason": m.last_verdict.reason if m.last_verdict else None,
            "decision": m.decision.value,
            # why the score stays unknown or old: the camera or detector failing
            "last_error": m.last_error,
        },
    ),
    DetectionSensorDescription(
        key="print_quality",
        translation_key="print_quality",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda m: m.last_verdict.print_quality if m.last_verdict else None,
    ),
    DetectionSensorDescription(
        key="last_check",
        translation_key="last_check",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda m: m.last_check,
    ),
    DetectionSensorDescription(
        key="ai_usage",
        translation_key="ai_usage",
        native_unit_of_measurement="calls",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda m: m.usage_today.calls,
        attributes_fn=lambda m: {
            "calls_this_print": m.usage_print.calls,
            "tokens_this_print": m.usage_print.tokens,
            "tokens_today": m.usage_today.tokens,
            "cost_this_print_usd": round(m.usage_print.cost_usd, 4),
            "cost_today_usd": round(m.usage_today.cost_usd, 4),
        },
    ),
)

CONNECT_LAST_UPLOAD = SensorEntityDescription(
    key="connect_last_upload",
    translation_key="connect_last_upload",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the printer's sensors."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    capabilities = coordinator.backend.capabilities
    # a backend may name sensors its printers never report (no forever-unknown ones)
    unreported: frozenset[str] = getattr(coordinator.backend, "unreported", frozenset())
    existing = [
        d for d in SENSORS if d.exists_fn(capabilities) and d.key not in unreported
    ]
    async_remove_stale_entities(
        hass,
        Platform.SENSOR,
        coordinator.identity.unique_id,
        {d.key for d in SENSORS} - {d.key for d in existing},
    )
    entities: list[SensorEntity] = [
        (
            EstimatedFinishSensor
            if description.key == ESTIMATED_FINISH
            else PrinterSensor
        )(coordinator, description)
        for description in existing
    ]
    if runtime.monitor is not None:
        entities.extend(
            DetectionSensor(runtime.monitor, description)
            for description in DETECTION_SENSORS
        )
    if runtime.connect_uploader is not None:
        entities.append(ConnectUploadSensor(coordinator, runtime.connect_uploader))
    async_add_entities(entities)


class PrinterSensor(PrintSentinelEntity, SensorEntity):
    """A value the printer reports."""

    entity_description: PrinterSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value from the latest poll; text cut to a state's length."""
        value = self.entity_description.value_fn(self.coordinator.data)
        if isinstance(value, str):
            return bounded_text(value, MAX_TEXT)
        return value


class EstimatedFinishSensor(PrinterSensor):
    """When the print will end, to the minute, changing only when it moves.

    The printer's time remaining jitters by seconds from poll to poll, so the exact
    estimate would change (and be recorded) on every poll; the shown value is the
    estimate's minute and changes only once the estimate is a minute or more away.
    """

    def __init__(
        self, coordinator: PrinterCoordinator, description: PrinterSensorDescription
    ) -> None:
        """Initialise from the first poll."""
        super().__init__(coordinator, description)
        self._shown: datetime | None = None
        self._settle()

    def _settle(self) -> None:
        exact = self.entity_description.value_fn(self.coordinator.data)
        if not isinstance(exact, datetime):
            self._shown = None
        elif self._shown is None or abs(exact - self._shown) >= FINISH_SETTLE:
            self._shown = exact.replace(second=0, microsecond=0)

    @callback
    def _handle_coordinator_update(self) -> None:
        self._settle()
        super()._handle_coordinator_update()

    @property
    def native_value(self) -> datetime | None:
        """Return the estimated finish, to the minute."""
        return self._shown


class DetectionSensor(DetectionEntity, SensorEntity):
    """What the failure detection last saw."""

    entity_description: DetectionSensorDescription

    def __init__(
        self, monitor: DetectionMonitor, description: DetectionSensorDescription
    ) -> None:
        """Initialise."""
        super().__init__(monitor, description)

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value."""
        return self.entity_description.value_fn(self.monitor.state)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return details of the last verdict or usage."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.monitor.state)


class ConnectUploadSensor(SensorEntity):
    """When a snapshot last reached Prusa Connect."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description = CONNECT_LAST_UPLOAD

    def __init__(self, coordinator: Any, uploader: PrusaConnectUploader) -> None:
        """Initialise."""
        identity = coordinator.identity
        self._uploader = uploader
        self._attr_unique_id = f"{identity.unique_id}_{CONNECT_LAST_UPLOAD.key}"
        attach_to_device(self, coordinator.hass, identity)

    async def async_added_to_hass(self) -> None:
        """Follow the uploader."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._uploader.async_add_listener(self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """Unavailable once Connect refused the token.

        Nothing is uploaded until the options are fixed (a repair issue says so).
        Through an outage the time of the last good upload stays, with the error as
        an attribute.
        """
        return not self._uploader.auth_failed

    @property
    def native_value(self) -> datetime | None:
        """Return the time of the last successful upload."""
        return self._uploader.last_success

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the upload count and the last error."""
        return {
            "uploads": self._uploader.uploads,
            "last_error": self._uploader.last_error,
        }
