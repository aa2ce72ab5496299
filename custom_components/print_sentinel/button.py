"""Buttons that command a printer's job, and the user's "false alarm"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .detection_entity import DetectionEntity
from .entity import PrintSentinelEntity, async_remove_stale_entities
from .helpers import printer_command
from .printers.base import Capability, PrinterBackend, PrinterState
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PrinterButtonDescription(ButtonEntityDescription):
    """Describes a job command."""

    press_fn: Callable[[PrinterBackend], Awaitable[None]]
    allowed_states: frozenset[PrinterState]
    """The button is available only in these states."""
    exists_fn: Callable[[frozenset[Capability]], bool] = lambda _: True
    """Checked against the backend's capabilities: a command it lacks gets no button."""


BUTTONS: tuple[PrinterButtonDescription, ...] = (
    PrinterButtonDescription(
        key="pause",
        translation_key="pause",
        press_fn=lambda backend: backend.async_pause(),
        allowed_states=frozenset({PrinterState.PRINTING}),
    ),
    PrinterButtonDescription(
        key="resume",
        translation_key="resume",
        press_fn=lambda backend: backend.async_resume(),
        allowed_states=frozenset({PrinterState.PAUSED}),
    ),
    PrinterButtonDescription(
        key="cancel",
        translation_key="cancel",
        press_fn=lambda backend: backend.async_cancel(),
        allowed_states=frozenset({PrinterState.PRINTING, PrinterState.PAUSED}),
    ),
    PrinterButtonDescription(
        key="continue",
        translation_key="continue",
        press_fn=lambda backend: backend.async_continue(),
        allowed_states=frozenset({PrinterState.ATTENTION}),
        exists_fn=lambda capabilities: Capability.CONTINUE in capabilities,
    ),
)

FALSE_ALARM = ButtonEntityDescription(key="false_alarm", translation_key="false_alarm")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the job buttons."""
    coordinator = entry.runtime_data.coordinator
    capabilities = coordinator.backend.capabilities
    existing = [d for d in BUTTONS if d.exists_fn(capabilities)]
    async_remove_stale_entities(
        hass,
        Platform.BUTTON,
        coordinator.identity.unique_id,
        {d.key for d in BUTTONS} - {d.key for d in existing},
    )
    async_add_entities(
        PrinterButton(coordinator, description) for description in existing
    )
    if (monitor := entry.runtime_data.monitor) is not None:
        async_add_entities([FalseAlarmButton(monitor, FALSE_ALARM)])


class PrinterButton(PrintSentinelEntity, ButtonEntity):
    """Pause, resume, cancel or continue the printer's job."""

    entity_description: PrinterButtonDescription

    @property
    def available(self) -> bool:
        """Return True when the command makes sense in the printer's state."""
        return (
            super().available
            and self.coordinator.data.state in self.entity_description.allowed_states
        )

    @printer_command
    async def async_press(self) -> None:
        """Send the command to the printer."""
        await self.entity_description.press_fn(self.coordinator.backend)


class FalseAlarmButton(DetectionEntity, ButtonEntity):
    """Tell Print Sentinel its last warning or failure was wrong.

    Available while there is a warning or failure, or shortly after one.
    """

    @property
    def available(self) -> bool:
        """Return True when there is a decision to mark as a false alarm."""
        return super().available and self.monitor.false_alarm_possible

    async def async_press(self) -> None:
        """Record the false alarm."""
        if not self.monitor.async_false_alarm():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_alarm",
                translation_placeholders={"printer": self.monitor.entry.title},
            )
