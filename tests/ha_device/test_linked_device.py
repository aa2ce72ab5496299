"""Services and device automations on a printer another integration has.

Print Sentinel's entities join the other integration's device (no device of its
own), so a user picks that device, the printer's own, in the `vision_check` action
and in device triggers and conditions.
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    DOMAIN,
)
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene

from ..common import advance
from ..conftest import VISION_API_KEY
from .test_ha_device import (
    LivePrinter,
    _add_through_the_flow,
    _live_printer,
    _ours,
    stand_in_flows,  # noqa: F401  (autouse: lets the stand-in entries be set up)
)

INTEGRATION = "bambu_lab"


@pytest.fixture
def calls(hass: HomeAssistant) -> list[ServiceCall]:
    """What the automations did."""
    return async_mock_service(hass, "test", "automation")


@pytest.fixture
async def live(hass: HomeAssistant) -> LivePrinter:
    """A Bambu Lab printer, printing, with its camera and buttons."""
    return await _live_printer(hass, INTEGRATION)


async def _with_detection(
    hass: HomeAssistant, live: LivePrinter, vision: OpenAISimulator
) -> ConfigEntry:
    """Add the printer through the flow, with detection on."""
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: VISION_API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
            CONF_CHECK_INTERVAL: 20,
            CONF_FAILURE_ACTION: "notify",
        },
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_vision_check_on_the_printers_own_device(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    vision: OpenAISimulator,
    live: LivePrinter,
) -> None:
    """The action is called with the other integration's device: a verdict."""
    entry = await _with_detection(hass, live, vision)
    await advance(hass, freezer, 1)
    live.scene = Scene(60, "spaghetti")

    response = await hass.services.async_call(
        DOMAIN,
        "vision_check",
        {"device_id": live.fake.device_id},
        blocking=True,
        return_response=True,
    )

    assert response is not None
    assert response["detector"] == "openai"
    assert response["kind"] == "spaghetti"
    # Print Sentinel's camera, which shows the printer's camera's picture
    assert response["camera_entity_id"] == _ours(hass, entry, "camera", "camera")
    assert [r.status for r in vision.requests][-1:] == [200]
    assert live.presses == []  # a check, not the monitor's decision to pause


async def _automate(hass: HomeAssistant, device_id: str) -> None:
    """A device trigger per type, and a device condition on a test event."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                *(
                    {
                        "triggers": {
                            "platform": "device",
                            "domain": DOMAIN,
                            "device_id": device_id,
                            "type": trigger_type,
                        },
                        "actions": {
                            "action": "test.automation",
                            "data": {"what": "{{ trigger.type }}"},
                        },
                    }
                    for trigger_type in ("print_paused", "print_resumed")
                ),
                {
                    "triggers": {"trigger": "event", "event_type": "check"},
                    "conditions": {
                        "condition": "device",
                        "domain": DOMAIN,
                        "device_id": device_id,
                        "type": "is_paused",
                    },
                    "actions": {
                        "action": "test.automation",
                        "data": {"what": "is_paused"},
                    },
                },
            ]
        },
    )
    await hass.async_block_till_done()


async def _is_paused(hass: HomeAssistant, calls: list[ServiceCall]) -> bool:
    before = len(calls)
    hass.bus.async_fire("check")
    await hass.async_block_till_done()
    return [c.data["what"] for c in calls[before:]] == ["is_paused"]


async def test_device_trigger_and_condition_on_the_printers_own_device(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    live: LivePrinter,
    calls: list[ServiceCall],
) -> None:
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    await advance(hass, freezer, 1)
    await _automate(hass, live.fake.device_id)
    assert not await _is_paused(hass, calls)
    calls.clear()

    # the user pauses at the printer
    live.fake.set_state("state", live.states["paused"][0])
    await advance(hass, freezer, 1)

    assert [c.data["what"] for c in calls] == ["print_paused"]
    assert await _is_paused(hass, calls)

    # and resumes with Print Sentinel's button, which presses the printer's
    calls.clear()
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: _ours(hass, entry, "button", "resume")},
        blocking=True,
    )
    await advance(hass, freezer, 1)

    assert live.presses == ["resume"]
    assert [c.data["what"] for c in calls] == ["print_resumed"]
    assert not await _is_paused(hass, calls)
