"""Event entities: what happened to the print job."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrinterCoordinator, PrintSentinelConfigEntry
from .entity import PrintSentinelEntity
from .job_events import JOB_EVENT_TYPES, job_events

PARALLEL_UPDATES = 0

PRINT_JOB = EventEntityDescription(
    key="print_job",
    translation_key="print_job",
    event_types=JOB_EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the event entities."""
    async_add_entities([PrintJobEvent(entry.runtime_data.coordinator, PRINT_JOB)])


class PrintJobEvent(PrintSentinelEntity, EventEntity):
    """Fires started, paused, resumed, finished, cancelled and failed."""

    def __init__(
        self, coordinator: PrinterCoordinator, description: EventEntityDescription
    ) -> None:
        """Initialise and remember the last seen snapshot."""
        super().__init__(coordinator, description)
        self._last = coordinator.data

    @callback
    def _handle_coordinator_update(self) -> None:
        if not self.coordinator.last_update_success:
            super()._handle_coordinator_update()
            return
        current, previous = self.coordinator.data, self._last
        events = job_events(previous, current)
        self._last = current
        # a finished job may already be gone from the status: name the one that was
        job = current.job or (previous.job if previous else None)
        for event_type in events:
            self._trigger_event(
                event_type,
                {
                    "file_name": job.name if job else None,
                    "job_id": job.id if job else None,
                    "progress": job.progress if job else None,
                    "printer_state": current.state.value,
                },
            )
        super()._handle_coordinator_update()
