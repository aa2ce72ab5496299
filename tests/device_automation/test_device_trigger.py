"""Device triggers: print job events and failure detections as automation triggers."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerInfo
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import probatio
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.print_sentinel import device_trigger
from custom_components.print_sentinel.const import DOMAIN

from . import RegisteredPrinter, register_printer

JOB_TRIGGERS = {
    "print_started": "started",
    "print_paused": "paused",
    "print_resumed": "resumed",
    "print_finished": "finished",
    "print_cancelled": "cancelled",
    "print_failed": "failed",
}
DETECTION_TRIGGERS = {"failure_warning": "warning", "failure_detected": "failure"}


class EventEntities:
    """Changes event entity states the way Home Assistant's event entities do."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start a clock for the event timestamps."""
        self.hass = hass
        self.when = dt_util.utcnow()

    async def fire(self, entity_id: str, event_type: str, **attributes: object) -> None:
        """Record one event: a new timestamp state with the event type."""
        self.when += timedelta(seconds=5)
        self.hass.states.async_set(
            entity_id, self.when.isoformat(), {"event_type": event_type, **attributes}
        )
        await self.hass.async_block_till_done()


@pytest.fixture
def printer(hass: HomeAssistant) -> RegisteredPrinter:
    """A printer whose event entities have not fired since start-up."""
    printer = register_printer(hass)
    for key in ("print_job", "detection"):
        hass.states.async_set(printer.entity_ids[key], "unknown", {"event_type": None})
    return printer


@pytest.fixture
def events(hass: HomeAssistant) -> EventEntities:
    """Fire events on event entities."""
    return EventEntities(hass)


@pytest.fixture
def calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture what the automations did."""
    return async_mock_service(hass, "test", "automation")


async def _automate(hass: HomeAssistant, device_id: str, *types: str) -> None:
    """One automation per trigger type, each reporting its type and the event."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "triggers": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": device_id,
                        "type": trigger_type,
                    },
                    "actions": {
                        "action": "test.automation",
                        "data": {
                            "type": trigger_type,
                            "what": "{{ trigger.type }} {{ trigger.event_type }}",
                            "file": "{{ trigger.to_state.attributes.file_name }}",
                        },
                    },
                }
                for trigger_type in types
            ]
        },
    )
    await hass.async_block_till_done()


async def test_printer_offers_every_trigger(
    hass: HomeAssistant, printer: RegisteredPrinter
) -> None:
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, [printer.device_id]
    )

    expected = [
        {
            "platform": "device",
            "domain": DOMAIN,
            "device_id": printer.device_id,
            "type": trigger_type,
            "metadata": {},
        }
        for trigger_type in sorted({**JOB_TRIGGERS, **DETECTION_TRIGGERS})
    ]
    assert sorted(triggers[printer.device_id], key=lambda t: str(t["type"])) == expected


async def test_printer_without_detection_offers_only_job_triggers(
    hass: HomeAssistant,
) -> None:
    printer = register_printer(hass, keys=(("sensor", "state"), ("event", "print_job")))

    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, [printer.device_id]
    )

    assert {t["type"] for t in triggers[printer.device_id]} == set(JOB_TRIGGERS)


async def test_job_triggers_fire_on_their_event_only(
    hass: HomeAssistant,
    printer: RegisteredPrinter,
    events: EventEntities,
    calls: list[ServiceCall],
) -> None:
    await _automate(hass, printer.device_id, *JOB_TRIGGERS, *DETECTION_TRIGGERS)

    for event_type in JOB_TRIGGERS.values():
        calls.clear()
        await events.fire(
            printer.entity_ids["print_job"], event_type, file_name="benchy.gcode"
        )
        assert [(c.data["what"], c.data["file"]) for c in calls] == [
            (f"print_{event_type} {event_type}", "benchy.gcode")
        ]


@pytest.mark.parametrize(("trigger_type", "event_type"), DETECTION_TRIGGERS.items())
async def test_detection_triggers_fire_on_every_detection(
    hass: HomeAssistant,
    printer: RegisteredPrinter,
    events: EventEntities,
    calls: list[ServiceCall],
    trigger_type: str,
    event_type: str,
) -> None:
    await _automate(hass, printer.device_id, *JOB_TRIGGERS, *DETECTION_TRIGGERS)

    # the same event type twice in a row is two events
    await events.fire(printer.entity_ids["detection"], event_type)
    await events.fire(printer.entity_ids["detection"], event_type)

    assert [c.data["type"] for c in calls] == [trigger_type, trigger_type]


async def test_old_events_do_not_fire_again(
    hass: HomeAssistant,
    printer: RegisteredPrinter,
    events: EventEntities,
    calls: list[ServiceCall],
) -> None:
    job = printer.entity_ids["print_job"]
    await events.fire(job, "started", file_name="benchy.gcode")
    await _automate(hass, printer.device_id, "print_started")
    last = hass.states.get(job)
    assert last is not None

    # the printer drops off the network and comes back: same last event
    hass.states.async_set(job, "unavailable", last.attributes)
    await hass.async_block_till_done()
    hass.states.async_set(job, last.state, last.attributes)
    await hass.async_block_till_done()
    # an attribute changes without a new event
    hass.states.async_set(job, last.state, {**last.attributes, "progress": 3})
    await hass.async_block_till_done()
    # the entity is removed and added again (integration reload)
    hass.states.async_remove(job)
    await hass.async_block_till_done()
    hass.states.async_set(job, last.state, last.attributes)
    await hass.async_block_till_done()

    assert calls == []


async def test_other_printers_do_not_fire(
    hass: HomeAssistant,
    printer: RegisteredPrinter,
    events: EventEntities,
    calls: list[ServiceCall],
) -> None:
    other = register_printer(hass, serial="SN-0002", name="XL")
    await _automate(hass, printer.device_id, "print_finished")

    await events.fire(other.entity_ids["print_job"], "finished")

    assert calls == []


async def test_trigger_follows_a_renamed_event_entity(
    hass: HomeAssistant,
    printer: RegisteredPrinter,
    events: EventEntities,
    calls: list[ServiceCall],
) -> None:
    await _automate(hass, printer.device_id, "print_failed")
    registry = er.async_get(hass)
    registry.async_update_entity(printer.entity_ids["print_job"], name="Job")
    registry.async_update_entity(
        printer.entity_ids["print_job"], new_entity_id="event.workshop_printer_job"
    )
    await hass.async_block_till_done()
    hass.states.async_set("event.workshop_printer_job", "unknown")
    await hass.async_block_till_done()

    await events.fire(printer.entity_ids["print_job"], "failed")  # the old id
    assert calls == []
    await events.fire("event.workshop_printer_job", "failed")
    assert [c.data["type"] for c in calls] == ["print_failed"]

    registry.async_update_entity(
        "event.workshop_printer_job", new_entity_id="event.renamed_again"
    )
    await hass.async_block_till_done()
    hass.states.async_set("event.renamed_again", "unknown")
    await events.fire("event.renamed_again", "failed")
    assert len(calls) == 2


async def test_attach_fails_for_a_device_without_the_event_entity(
    hass: HomeAssistant,
) -> None:
    printer = register_printer(hass, keys=(("sensor", "state"),))
    info: TriggerInfo = {
        "domain": "automation",
        "name": "test",
        "variables": {},
        "trigger_data": {"id": "0", "idx": "0", "alias": None},
    }

    with pytest.raises(InvalidDeviceAutomationConfig):
        await device_trigger.async_attach_trigger(
            hass,
            {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": printer.device_id,
                "type": "print_started",
            },
            lambda *_: None,
            info,
        )


async def test_unknown_trigger_type_is_rejected(hass: HomeAssistant) -> None:
    with pytest.raises(probatio.Invalid, match="must be one of"):
        device_trigger.TRIGGER_SCHEMA(
            {
                "platform": "device",
                "domain": DOMAIN,
                "device_id": "abc",
                "type": "print_exploded",
            }
        )
