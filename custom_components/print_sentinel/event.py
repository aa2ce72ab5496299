"""Event entities: what happened to the print job."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PrinterCoordinator
from .detection.monitor import DetectionEvent, DetectionMonitor
from .detection_entity import DetectionEntity
from .entity import PrintSentinelEntity
from .job_events import ENDINGS, JOB_EVENT_TYPES, compared_next, job_events
from .printers.base import JobSnapshot, PrinterState, bounded_text
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 0

PRINT_JOB = EventEntityDescription(
    key="print_job",
    translation_key="print_job",
    event_types=JOB_EVENT_TYPES,
)

DETECTION = EventEntityDescription(
    key="detection",
    translation_key="detection",
    event_types=["warning", "failure"],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the event entities."""
    runtime = entry.runtime_data
    entities: list[EventEntity] = [PrintJobEvent(runtime.coordinator, PRINT_JOB)]
    if runtime.monitor is not None:
        entities.append(DetectionEventEntity(runtime.monitor, DETECTION))
    async_add_entities(entities)


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
        if (
            not self.coordinator.last_update_success
            or self.coordinator.data.state is PrinterState.UNKNOWN
        ):
            # offline, or a state nobody knows (a Repetier printer that dropped off
            # USB): no verdict on the job; its end is reported once the state is known
            super()._handle_coordinator_update()
            return
        current, previous = self.coordinator.data, self._last
        events = job_events(previous, current)
        self._last = compared_next(previous, current)
        ended = previous.job if previous else None
        for event_type in events:
            job = current.job
            # an ending names the job that ended, which may already be gone or
            # replaced by the next one in the same poll
            if (
                event_type in ENDINGS
                and ended is not None
                and (job is None or job.id != ended.id)
            ):
                job = ended
            self._trigger_event(
                event_type,
                _job_data(job or ended) | {"printer_state": current.state.value},
            )
            # write each event: automations must see an ending before the next start
            self.async_write_ha_state()
        super()._handle_coordinator_update()


def _job_data(job: JobSnapshot | None) -> dict[str, object]:
    """Return a job's event data: its name as plain text of a state's length."""
    if job is None:
        return {"file_name": None, "job_id": None, "progress": None}
    job_id = bounded_text(job.id, 64) if isinstance(job.id, str) else job.id
    return {
        "file_name": bounded_text(job.name),
        "job_id": job_id,
        "progress": job.progress,
    }


class DetectionEventEntity(DetectionEntity, EventEntity):
    """Fires warning and failure with the verdict and the action taken."""

    def __init__(
        self, monitor: DetectionMonitor, description: EventEntityDescription
    ) -> None:
        """Initialise."""
        super().__init__(monitor, description)

    async def async_added_to_hass(self) -> None:
        """Follow the monitor's decisions."""
        await super().async_added_to_hass()
        self.async_on_remove(self.monitor.async_add_event_listener(self._handle_event))

    @callback
    def _handle_event(self, event: DetectionEvent) -> None:
        verdict = event.verdict
        self._trigger_event(
            event.level,
            {
                "failure_score": round(verdict.failure_score, 1),
                "kind": verdict.kind.value,
                "reason": verdict.reason,
                "action": event.action,
                "detector": verdict.detector,
            },
        )
        self.async_write_ha_state()
