"""The print job event entity: started, paused, resumed, finished, cancelled, failed."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNKNOWN, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from simulators.prusalink import PrusaLinkSimulator

from .common import NEXT_POLL, advance

PRINT_JOB = "event.prusa_mk4s_print_job"
BENCHY = "Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode"
BOX = "Box_0.4n_0.2mm_ASA_MK4S_2h.bgcode"

type Fired = tuple[str, str | None, str]
"""(event_type, file_name, printer_state) as an automation sees them."""


@pytest.fixture(autouse=True)
def only_events() -> Generator[None]:
    """Set up the event platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.EVENT]):
        yield


@pytest.fixture
def fired(hass: HomeAssistant) -> list[Fired]:
    """Every job event the entity fires, as its state changes show it."""
    seen: list[Fired] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if event.data["entity_id"] != PRINT_JOB or state is None:
            return
        # the state is when the event fired: an older one was restored at start-up
        fired_at = dt_util.parse_datetime(state.state)
        if fired_at is None or dt_util.utcnow() - fired_at >= timedelta(seconds=1):
            return
        seen.append(
            (
                state.attributes["event_type"],
                state.attributes["file_name"],
                state.attributes["printer_state"],
            )
        )

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    return seen


async def test_event_entity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-03-01T12:00:00+00:00")
    printer.start_job(display_name=BENCHY)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_event_after_a_job_started(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-03-01T12:00:00+00:00")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    assert hass.states.get(PRINT_JOB) == snapshot


async def test_a_print_fires_started_paused_resumed_and_finished(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY, duration=600)
    await advance(hass, freezer, 31)
    assert fired == [("started", BENCHY, "printing")]

    printer.advance(60)
    await advance(hass, freezer, NEXT_POLL)
    assert len(fired) == 1  # progress alone is no event

    printer.pause()
    await advance(hass, freezer, NEXT_POLL)
    printer.resume()
    await advance(hass, freezer, NEXT_POLL)
    printer.advance(600)
    await advance(hass, freezer, NEXT_POLL)
    printer.advance(300)  # the result screen goes away
    await advance(hass, freezer, 31)

    assert fired == [
        ("started", BENCHY, "printing"),
        ("paused", BENCHY, "paused"),
        ("resumed", BENCHY, "printing"),
        ("finished", BENCHY, "finished"),
    ]
    attributes = hass.states.get(PRINT_JOB).attributes
    assert attributes["progress"] == 100
    assert attributes["job_id"] == printer.printer.next_job_id - 1


async def test_a_resume_through_a_prompt_fires_resumed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    """Paused, then a prompt on the printer's screen (attention), then printing."""
    printer.start_job(display_name=BENCHY, duration=600)
    await advance(hass, freezer, 31)
    printer.pause()
    await advance(hass, freezer, NEXT_POLL)
    printer.set_state("ATTENTION")
    await advance(hass, freezer, NEXT_POLL)
    printer.set_state("PRINTING")
    await advance(hass, freezer, NEXT_POLL)

    assert fired == [
        ("started", BENCHY, "printing"),
        ("paused", BENCHY, "paused"),
        ("resumed", BENCHY, "printing"),
    ]


async def test_cancelling_fires_cancelled(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    printer.advance(600)
    printer.cancel()
    await advance(hass, freezer, NEXT_POLL)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("cancelled", BENCHY, "stopped"),
    ]


async def test_an_error_fires_failed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    printer.set_state("ERROR")
    await advance(hass, freezer, NEXT_POLL)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("failed", BENCHY, "error"),
    ]


async def test_nothing_fires_for_a_print_running_when_home_assistant_starts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY)
    printer.advance(1200)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for _ in range(3):
        printer.advance(6)
        await advance(hass, freezer, NEXT_POLL)
    assert fired == []
    assert hass.states.get(PRINT_JOB).state == STATE_UNKNOWN

    printer.pause()
    await advance(hass, freezer, NEXT_POLL)
    assert fired == [("paused", BENCHY, "paused")]


async def test_nothing_fires_after_a_reload_with_a_print_running(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    assert fired == [("started", BENCHY, "printing")]

    await advance(hass, freezer, NEXT_POLL)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    for _ in range(3):
        await advance(hass, freezer, NEXT_POLL)
    assert [event for event, *_ in fired] == ["started"]


async def test_a_print_that_finished_during_an_outage_fires_finished(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY, duration=600)
    await advance(hass, freezer, 31)
    await printer.go_offline()
    await advance(hass, freezer, NEXT_POLL)
    printer.advance(600)
    await printer.come_back()
    await advance(hass, freezer, 31)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("finished", BENCHY, "finished"),
    ]


async def test_a_job_that_ended_between_polls_fires_its_end_before_the_next_start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    printer.advance(1200)
    printer.cancel()
    printer.idle()
    printer.start_job(display_name=BOX, material="ASA")
    await advance(hass, freezer, NEXT_POLL)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("cancelled", BENCHY, "printing"),
        ("started", BOX, "printing"),
    ]


@pytest.mark.parametrize("job_shown", [True, False])
async def test_attention_and_continue_do_not_end_or_restart_the_job(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
    job_shown: bool,
) -> None:
    printer.start_job(display_name=BENCHY)
    await advance(hass, freezer, 31)
    # a printer may show no job while it waits
    printer.faults.no_job_in_attention = not job_shown
    printer.set_state("ATTENTION")  # filament runout: waits for the user
    await advance(hass, freezer, NEXT_POLL)
    printer.continue_job()
    await advance(hass, freezer, NEXT_POLL)
    printer.cancel()
    await advance(hass, freezer, NEXT_POLL)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("cancelled", BENCHY, "stopped"),
    ]


async def test_an_unknown_state_is_no_verdict_on_the_job(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
) -> None:
    printer.start_job(display_name=BENCHY, duration=600)
    await advance(hass, freezer, 31)
    # a state this integration does not know (polled at the idle cadence)
    printer.set_state("HEATING_UP")
    await advance(hass, freezer, 31)
    printer.set_state("PRINTING")
    await advance(hass, freezer, 31)
    assert fired == [("started", BENCHY, "printing")]

    printer.set_state("HEATING_UP")
    await advance(hass, freezer, 31)
    printer.set_state("PRINTING")
    printer.advance(600)  # it finished while we could not tell
    await advance(hass, freezer, 31)
    assert fired == [
        ("started", BENCHY, "printing"),
        ("finished", BENCHY, "finished"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("B" * 5_000, "B" * 254 + "\u2026"),
        ("line one\nline two\x1b[31m", "line one line two [31m"),
        ("**bold** [link](http://x)", "**bold** [link](http://x)"),
        ("0", "0"),
    ],
    ids=["5000_chars", "control_chars", "markdown", "zero"],
)
async def test_the_job_name_in_event_data_is_bounded_plain_text(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    init_integration: MockConfigEntry,
    fired: list[Fired],
    name: str,
    expected: str,
) -> None:
    """Cut to 255 characters, control characters gone, Markdown left as text."""
    printer.start_job(display_name=name, duration=600)
    await advance(hass, freezer, 31)
    assert fired == [("started", expected, "printing")]
