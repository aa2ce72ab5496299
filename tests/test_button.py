"""Buttons: pause, resume, cancel and continue a print."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from simulators.prusalink import PrusaLinkSimulator

from .common import NEXT_POLL, advance

PAUSE = "button.prusa_mk4s_pause_print"
RESUME = "button.prusa_mk4s_resume_print"
CANCEL = "button.prusa_mk4s_cancel_print"
CONTINUE = "button.prusa_mk4s_continue"
BUTTONS = (PAUSE, RESUME, CANCEL, CONTINUE)


@pytest.fixture(autouse=True)
def only_buttons() -> Generator[None]:
    """Set up the button platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.BUTTON]):
        yield


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def _available(hass: HomeAssistant) -> set[str]:
    return {
        entity_id
        for entity_id in BUTTONS
        if hass.states.get(entity_id).state != STATE_UNAVAILABLE
    }


async def _printing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, printer: PrusaLinkSimulator
) -> None:
    """Start a job on the printer and let Home Assistant see it."""
    printer.start_job()
    printer.advance(120)
    await advance(hass, freezer, 31)
    assert hass.states.get(PAUSE).state != STATE_UNAVAILABLE


async def test_buttons_while_printing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-03-01T12:00:00+00:00")
    printer.start_job()
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


@pytest.mark.parametrize(
    ("state", "available"),
    [
        ("IDLE", set()),
        ("BUSY", set()),
        ("PRINTING", {PAUSE, CANCEL}),
        ("PAUSED", {RESUME, CANCEL}),
        ("ATTENTION", {CONTINUE}),
        ("ERROR", set()),
        ("FINISHED", set()),
        ("STOPPED", set()),
    ],
)
async def test_buttons_are_available_only_when_their_command_makes_sense(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    state: str,
    available: set[str],
) -> None:
    printer.start_job()
    printer.set_state(state)
    await advance(hass, freezer, 31)
    assert _available(hass) == available


async def test_buttons_are_unavailable_while_the_printer_is_offline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    await printer.go_offline()
    await advance(hass, freezer, NEXT_POLL)
    assert _available(hass) == set()


async def test_pause_button_pauses_and_resume_button_resumes_the_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)

    await _press(hass, PAUSE)
    assert printer.state == "PAUSED"
    # the press refreshes at once: no waiting for the next poll
    assert _available(hass) == {RESUME, CANCEL}

    await _press(hass, RESUME)
    assert printer.state == "PRINTING"
    # refreshes after presses are debounced: 10 s cool-down
    await advance(hass, freezer, 10)
    assert _available(hass) == {PAUSE, CANCEL}
    assert printer.count(f"/api/v1/job/{printer.job_id}/pause", method="PUT") == 1
    assert printer.count(f"/api/v1/job/{printer.job_id}/resume", method="PUT") == 1


@pytest.mark.parametrize("paused", [False, True], ids=["printing", "paused"])
async def test_cancel_button_stops_the_print(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    paused: bool,
) -> None:
    await _printing(hass, freezer, printer)
    if paused:
        await _press(hass, PAUSE)

    await _press(hass, CANCEL)
    assert printer.state == "STOPPED"
    await advance(hass, freezer, 10)  # past the debounced refresh's cool-down
    assert _available(hass) == set()


async def test_continue_button_acknowledges_attention(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    printer.set_state("ATTENTION")
    await advance(hass, freezer, NEXT_POLL)

    await _press(hass, CONTINUE)
    assert printer.state == "PRINTING"
    assert _available(hass) == {PAUSE, CANCEL}


async def test_refused_command_raises_command_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    printer.pause()  # someone paused at the printer's knob after the last poll

    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, PAUSE)
    assert err.value.translation_key == "command_refused"
    assert printer.state == "PAUSED"
    assert printer.count(f"/api/v1/job/{printer.job_id}/pause", status=409) == 1


async def test_command_for_a_job_that_is_gone_is_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    printer.cancel()
    printer.idle()  # the job ended and vanished after the last poll

    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, CANCEL)
    assert err.value.translation_key == "command_refused"


async def test_continue_on_old_firmware_raises_command_unsupported(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    printer.set_old_firmware()
    await _printing(hass, freezer, printer)
    printer.set_state("ATTENTION")
    await advance(hass, freezer, NEXT_POLL)

    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, CONTINUE)
    assert err.value.translation_key == "command_unsupported"
    assert printer.state == "ATTENTION"


async def test_unreachable_printer_during_a_press_raises_printer_unreachable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    await printer.go_offline()

    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, PAUSE)
    assert err.value.translation_key == "printer_unreachable"


async def test_rejected_credentials_during_a_press_start_reauth(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await _printing(hass, freezer, printer)
    printer.faults.unauthorized = True  # the PrusaLink password was changed

    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, PAUSE)
    assert err.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()

    # the entry reloaded, could not sign in, and asks the user for the password
    assert init_integration.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert printer.state == "PRINTING"
