"""Device triggers: a print started, finished, failed..., or a failure was detected.

Each trigger fires when the printer's event entity (``print_job`` or ``detection``)
receives an event of the trigger's type. The entity is found in the entity registry
by its unique id, so renaming it does not break automations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.event import ATTR_EVENT_TYPE
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_PLATFORM,
    CONF_TYPE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HassJob,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_entity_registry_updated_event,
    async_track_state_change_event,
)
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio

from .const import DOMAIN


@dataclass(frozen=True, kw_only=True)
class EventTrigger:
    """A device trigger backed by one event type of one event entity."""

    entity_key: str
    """Key of the event entity (its unique id is ``<entry unique id>_<key>``)."""
    event_type: str


PRINT_JOB: Final = "print_job"
DETECTION: Final = "detection"

TRIGGERS: Final[dict[str, EventTrigger]] = {
    "print_started": EventTrigger(entity_key=PRINT_JOB, event_type="started"),
    "print_paused": EventTrigger(entity_key=PRINT_JOB, event_type="paused"),
    "print_resumed": EventTrigger(entity_key=PRINT_JOB, event_type="resumed"),
    "print_finished": EventTrigger(entity_key=PRINT_JOB, event_type="finished"),
    "print_cancelled": EventTrigger(entity_key=PRINT_JOB, event_type="cancelled"),
    "print_failed": EventTrigger(entity_key=PRINT_JOB, event_type="failed"),
    "failure_warning": EventTrigger(entity_key=DETECTION, event_type="warning"),
    "failure_detected": EventTrigger(entity_key=DETECTION, event_type="failure"),
}

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {probatio.Required(CONF_TYPE): probatio.In(list(TRIGGERS))}
)


@callback
def async_find_device_entity_id(
    hass: HomeAssistant, device_id: str, platform: Platform, key: str
) -> str | None:
    """Return the entity id of a printer's entity, found by its unique id.

    Unique ids are ``f"{entry.unique_id}_{key}"``; disabled entities are skipped.
    """
    registry = er.async_get(hass)
    suffix = f"_{key}"
    for entry in er.async_entries_for_device(registry, device_id):
        if entry.platform != DOMAIN or entry.domain != platform:
            continue
        config_entry = (
            hass.config_entries.async_get_entry(entry.config_entry_id)
            if entry.config_entry_id
            else None
        )
        if config_entry is not None and config_entry.unique_id:
            if entry.unique_id == f"{config_entry.unique_id}{suffix}":
                return entry.entity_id
        elif entry.unique_id.endswith(suffix):
            return entry.entity_id
    return None


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, Any]]:
    """List the triggers of a printer: those whose event entity it has."""
    available = {
        key
        for key in (PRINT_JOB, DETECTION)
        if async_find_device_entity_id(hass, device_id, Platform.EVENT, key)
    }
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type, trigger in TRIGGERS.items()
        if trigger.entity_key in available
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Fire the action when the event entity receives the trigger's event type."""
    trigger_type: str = config[CONF_TYPE]
    device_id: str = config[CONF_DEVICE_ID]
    trigger = TRIGGERS[trigger_type]
    entity_id = async_find_device_entity_id(
        hass, device_id, Platform.EVENT, trigger.entity_key
    )
    if entity_id is None:
        raise InvalidDeviceAutomationConfig(
            f"Device {device_id} has no {trigger.entity_key} event entity"
        )

    return _EventTracker(
        hass,
        entity_id,
        HassJob(action, f"{DOMAIN} device trigger {trigger_info}"),
        {
            **trigger_info["trigger_data"],
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
            "event_type": trigger.event_type,
        },
    ).async_detach


class _EventTracker:
    """Runs the action on each new event of one type, following entity renames."""

    def __init__(
        self,
        hass: HomeAssistant,
        entity_id: str,
        job: HassJob[..., Any],
        trigger_data: dict[str, Any],
    ) -> None:
        """Start listening."""
        self._hass = hass
        self._job = job
        self._trigger_data = trigger_data
        self._event_type: str = trigger_data["event_type"]
        self._unsubs: list[CALLBACK_TYPE] = []
        self._async_track(entity_id)

    @callback
    def _async_track(self, entity_id: str) -> None:
        self._unsubs = [
            async_track_state_change_event(
                self._hass, entity_id, self._async_state_changed
            ),
            async_track_entity_registry_updated_event(
                self._hass, entity_id, self._async_registry_updated
            ),
        ]

    @callback
    def async_detach(self) -> None:
        """Stop listening."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    @callback
    def _async_registry_updated(
        self, event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """Follow the entity when the user changes its entity id."""
        data = event.data
        if data["action"] == "update" and "old_entity_id" in data:
            self.async_detach()
            self._async_track(data["entity_id"])

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        old_state = event.data["old_state"]
        new_state = event.data["new_state"]
        # An event entity's state is the time of its last event: a new time is a new
        # event. No old state (just added or restored) or coming back from
        # unavailable repeats an old event.
        if (
            old_state is None
            or new_state is None
            or old_state.state == STATE_UNAVAILABLE
            or new_state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN)
            or old_state.state == new_state.state
            or new_state.attributes.get(ATTR_EVENT_TYPE) != self._event_type
        ):
            return
        self._hass.async_run_hass_job(
            self._job,
            {
                "trigger": {
                    **self._trigger_data,
                    "entity_id": new_state.entity_id,
                    "from_state": old_state,
                    "to_state": new_state,
                    "description": (
                        f"{self._trigger_data[CONF_TYPE]} on {new_state.entity_id}"
                    ),
                }
            },
            event.context,
        )
