"""Push from Repetier-Server's websocket: events instead of polls, and the fallback.

Against the simulator's `/socket/` (same protocol as the server: requests with a
`callback_id`, events as an `eventList`). The socket reads in the background, so
these tests wait (briefly, in real time) for what it pushed to arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import logging
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from custom_components.print_sentinel.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.print_sentinel.printers import repetier_socket
from custom_components.print_sentinel.printers.repetier import RepetierBackend
from simulators.repetier import RepetierSimulator

from ..common import advance

API_KEY = "7c1d-push-Secret-key-9911"
SERVER_UUID = "4f0b2c1e-0000-4000-8000-0000000000ff"
SLUG = "prusa_i3"
STATE = "sensor.prusa_i3_printer_state"
PROGRESS = "sensor.prusa_i3_progress"
NOZZLE_TARGET = "sensor.prusa_i3_nozzle_target_temperature"
EVENT = "event.prusa_i3_print_job"
POLLED = {"listPrinter", "stateList"}

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(autouse=True)
def quick_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect after 0.1 s, not after seconds; no heartbeat.

    These tests move the clock ten seconds at a time and a pong is real I/O, so a
    heartbeat would time out between two steps that no real clock makes.
    """
    monkeypatch.setattr(repetier_socket, "BACKOFF", (0.1,))
    monkeypatch.setattr(repetier_socket, "HEARTBEAT", None)
    # temperatures resync at once here (their own throttle has a test below)
    monkeypatch.setattr(repetier_socket, "TEMP_RESYNC_SECONDS", 0.0)
    monkeypatch.setattr(repetier_socket, "IDLE_TEMP_RESYNC_SECONDS", 0.0)


@pytest.fixture
async def server(hass: HomeAssistant) -> AsyncGenerator[RepetierSimulator]:
    sim = RepetierSimulator(
        api_key=API_KEY, printers=[(SLUG, "Prusa i3")], server_uuid=SERVER_UUID
    )
    await sim.start("127.0.0.1", 0)
    yield sim
    # unload first: a socket reconnecting while the server closes trips asyncio
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await sim.stop()


@pytest.fixture
async def loaded(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, server: RepetierSimulator
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Prusa i3",
        unique_id=f"{SERVER_UUID}_{SLUG}",
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: server.port,
            CONF_API_KEY: API_KEY,
            CONF_PRINTER_SLUG: SLUG,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await until(hass, freezer, lambda: backend(entry).pushing)
    return entry


def backend(entry: MockConfigEntry) -> RepetierBackend:
    found = entry.runtime_data.backend
    assert isinstance(found, RepetierBackend)
    return found


async def until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    condition: Callable[[], bool],
    within: float = 5.0,
) -> None:
    """Wait until `condition` holds (what the socket pushed has arrived).

    The clock is frozen, so the event loop's timers (the socket's back-off and
    resync throttle) run only when it moves: it follows the real time that passes
    while the loopback I/O is served, for at most `within` real seconds.
    """
    deadline = _real_now() + within
    last = _real_now()
    while not condition():
        now = _real_now()
        if now > deadline:
            raise TimeoutError
        freezer.tick(now - last)
        last = now
        await asyncio.sleep(0)
        # the refreshes a push starts are the entry's background tasks
        await hass.async_block_till_done(wait_background_tasks=True)
        time.sleep(0.001)  # noqa: ASYNC251  a timer would wait on the frozen clock


async def wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let `seconds` of real time pass, the clock following (`asyncio.sleep` would
    wait on the frozen clock for ever)."""
    end = _real_now() + seconds
    await until(hass, freezer, lambda: _real_now() >= end, within=seconds + 5)


def _real_now() -> float:
    """Real seconds (freezegun patches `time.monotonic`, not `clock_gettime`)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    found = hass.states.get(entity_id)
    return None if found is None else found.state


def http_polls(server: RepetierSimulator) -> list[str]:
    return [a for a in server.actions() if a in POLLED]


def job_events(hass: HomeAssistant) -> list[str]:
    """Every print job event fired from now on, in order."""
    seen: list[str] = []

    def _changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if (
            event.data["entity_id"] == EVENT
            and new is not None
            and (kind := new.attributes.get("event_type")) is not None
        ):
            seen.append(kind)

    hass.bus.async_listen("state_changed", _changed)
    return seen


async def test_pushed_changes_show_without_a_single_http_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    events = job_events(hass)
    server.requests.clear()
    server.start_job(SLUG, "benchy.gcode", duration=3600, nozzle=215)
    await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    assert state(hass, NOZZLE_TARGET) == "215.0"
    server.advance(1800)
    await until(hass, freezer, lambda: state(hass, PROGRESS) == "50.0")
    # ten minutes of Home Assistant time: nothing asked over HTTP
    for _ in range(60):
        await advance(hass, freezer, 10)
    server.advance(1800)  # the job ends: the server pushes jobFinished
    await until(hass, freezer, lambda: state(hass, STATE) == "finished")
    server.push_event("temp", SLUG)  # the next change shows the printer idle
    await until(hass, freezer, lambda: state(hass, STATE) == "idle")
    assert http_polls(server) == []
    assert {"listPrinter", "stateList"} <= set(server.socket_requests)
    assert events == ["started", "finished"]


@pytest.mark.parametrize("chatter", ["temp", "move", "log", "timer30"])
async def test_temperatures_alone_resync_seldom_a_state_change_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    chatter: str,
) -> None:
    """The server pushes temperatures every second (moves and log lines as often,
    timers now and then, none a change of state): not a resync each second.

    A pause (a state event) still shows within a second, also while a resync for
    temperatures is waiting.
    """
    monkeypatch.setattr(repetier_socket, "TEMP_RESYNC_SECONDS", 3.0)
    server.start_job(SLUG, "benchy.gcode", duration=3600)
    await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    await wait(hass, freezer, 1.2)  # past the start's resync
    server.socket_requests.clear()
    for _ in range(8):  # 8 such events in about 2 s
        server.push_event(chatter, SLUG)
        await wait(hass, freezer, 0.25)
    assert server.socket_requests.count("listPrinter") <= 1
    server.printers[SLUG].paused = True
    server.push_changes("state", SLUG)
    await until(hass, freezer, lambda: state(hass, STATE) == "paused", within=1.5)
    assert server.socket_requests.count("listPrinter") <= 2


async def test_a_job_stopped_on_the_server_is_cancelled_not_finished(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    """Polling sees a job vanish; push hears `jobKilled` even at 99 %."""
    events = job_events(hass)
    server.start_job(SLUG, duration=1000)
    server.advance(995)
    await until(hass, freezer, lambda: state(hass, PROGRESS) == "99.5")
    await backend(loaded).async_cancel()  # stopJob, as the server's own page does
    await until(hass, freezer, lambda: state(hass, STATE) == "stopped")
    assert events == ["started", "cancelled"]


async def test_a_lost_socket_falls_back_to_polling_and_push_comes_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    server.start_job(SLUG, duration=3600)
    await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    server.websocket = False  # the server restarts without push for a while
    await server.drop_sockets()
    await until(hass, freezer, lambda: not backend(loaded).pushing)
    await wait(hass, freezer, 0.5)  # several reconnects are refused meanwhile
    server.requests.clear()
    await advance(hass, freezer, 11)  # polled at the printing interval again
    assert "listPrinter" in http_polls(server)
    server.advance(60)
    server.printer(SLUG).paused = True  # paused at the printer while push is down
    await advance(hass, freezer, 11)
    assert state(hass, STATE) == "paused"
    lost = [r for r in caplog.records if "No push connection" in r.getMessage()]
    assert [r for r in lost if r.levelno >= logging.WARNING] == []  # not yet
    for _ in range(12):  # push stays off while polling works: worth one warning
        await advance(hass, freezer, 11)

    server.websocket = True
    await until(hass, freezer, lambda: backend(loaded).pushing)
    server.requests.clear()
    server.printer(SLUG).paused = False
    server.push_changes("state", SLUG)
    await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    for _ in range(12):
        await advance(hass, freezer, 10)
    assert http_polls(server) == []

    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
    ]
    lost = [
        r
        for r in ours
        if "No push connection" in r.getMessage() and r.levelno >= logging.WARNING
    ]
    back = [r for r in ours if r.getMessage().startswith("Push connection")]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING
    assert len(back) == 1 and back[0].levelno == logging.INFO
    assert API_KEY not in caplog.text


async def test_a_server_that_goes_away_is_one_log_line_not_two(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Push and HTTP fail together: the printer's outage is logged, push is not."""
    caplog.set_level(logging.INFO)
    await server.go_down()
    await until(hass, freezer, lambda: state(hass, STATE) == STATE_UNAVAILABLE)
    for _ in range(20):
        await advance(hass, freezer, 31)
    assert state(hass, STATE) == STATE_UNAVAILABLE
    await server.come_up()
    await until(hass, freezer, lambda: backend(loaded).pushing, within=10)
    await until(hass, freezer, lambda: state(hass, STATE) == "idle")

    problems = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
        and r.levelno >= logging.WARNING
    ]
    assert len(problems) == 1, problems
    assert "No push connection" not in problems[0]


async def test_a_job_that_ended_while_push_was_down_ends_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    events = job_events(hass)
    server.start_job(SLUG, duration=600)
    server.advance(595)  # seen at 99 %, so its disappearance is "finished"
    await until(hass, freezer, lambda: (state(hass, PROGRESS) or "").startswith("99."))
    server.websocket = False
    await server.drop_sockets()
    await until(hass, freezer, lambda: not backend(loaded).pushing)
    server.advance(10)  # the job ends before the next poll
    server.websocket = True
    await until(hass, freezer, lambda: backend(loaded).pushing)
    await until(hass, freezer, lambda: state(hass, STATE) == "idle")
    for _ in range(6):  # polls and resyncs after the reconnect see it again
        await advance(hass, freezer, 10)
    await server.drop_sockets()  # and another reconnect
    await until(hass, freezer, lambda: server.socket_connects >= 3)
    await until(hass, freezer, lambda: backend(loaded).pushing)
    assert events == ["started", "finished"]


async def test_frames_that_are_not_events_are_ignored(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for text in (
        "not json",
        "[1, 2, 3]",
        '{"eventList": true, "data": "x"}',
        '{"eventList": true, "data": [1, {"event": 5}, {"printer": "other"}]}',
        '{"callback_id": 99999, "data": {}}',
        "[" * 100_000 + "]" * 100_000,  # nested beyond what is parsed
        '{"eventList": true, "data": [{"event": "temp", "printer": "other_one"}]}',
    ):
        server.push_raw(text)
    await wait(hass, freezer, 0.3)
    assert backend(loaded).pushing
    assert server.socket_connects == 1
    # a real event still comes through
    server.start_job(SLUG, duration=3600)
    await until(hass, freezer, lambda: state(hass, STATE) == "printing")
    problems = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno >= 30
    ]
    assert problems == []


async def test_a_server_that_drops_every_client_once_synced_is_not_hammered(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection lost right after its first answers is a failed attempt: the
    back-off grows instead of starting again at its first step every time."""
    socket = backend(loaded)._socket
    assert socket is not None
    monkeypatch.setattr(socket, "_backoff", (0.1, 0.2, 0.4, 0.8, 1.6, 3.2))
    server.socket_close_after_state = True
    before = server.socket_connects
    await server.drop_sockets()

    await wait(hass, freezer, 3.0)

    # 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s of back-off: at most six connections in 3 s
    # (one a second for ever would be 30 at the first step, 0.1 s)
    assert 2 <= server.socket_connects - before <= 6
    assert state(hass, STATE) == "idle"  # polled meanwhile

    server.socket_close_after_state = False
    await until(hass, freezer, lambda: backend(loaded).pushing, within=10)


async def test_a_frame_beyond_the_limit_drops_the_socket_not_the_printer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.push_raw('{"eventList": true, "data": "' + "x" * (2 << 20) + '"}')
    await until(hass, freezer, lambda: server.socket_connects >= 2)
    await until(hass, freezer, lambda: backend(loaded).pushing)
    assert state(hass, STATE) == "idle"


async def test_an_answer_that_is_not_repetiers_keeps_polling(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    server.socket_raw_answers["listPrinter"] = '{"callback_id": 1, "data": "nope"}'
    await server.drop_sockets()
    await until(hass, freezer, lambda: not backend(loaded).pushing)
    server.requests.clear()
    await advance(hass, freezer, 31)
    assert "listPrinter" in http_polls(server)
    assert state(hass, STATE) == "idle"


async def test_unload_closes_the_socket_and_diagnostics_show_push(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded)
    text = str(diagnostics)
    watched = backend(loaded)
    assert "'push_healthy': True" in text
    assert API_KEY not in text
    assert await hass.config_entries.async_unload(loaded.entry_id)
    await hass.async_block_till_done()
    await until(hass, freezer, lambda: not server._sockets)
    assert not watched.pushing


async def test_push_that_never_stays_up_is_worth_one_warning(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: RepetierSimulator,
    loaded: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy that drops each push connection right after its first answers: a
    brief connection is not push back, so the warning comes once the printer has
    been polled for the grace time, and "back" only once a connection lasts.

    Real seconds stand for minutes here: grace 1.5 s, stable after 2 s, a
    reconnect every 0.3 s (each drop polls over HTTP at once)."""
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(repetier_socket, "PUSH_DOWN_GRACE", 1.5)
    monkeypatch.setattr(repetier_socket, "STABLE_SECONDS", 2.0)
    socket = backend(loaded)._socket
    assert socket is not None
    monkeypatch.setattr(socket, "_backoff", (0.3,))

    def push_lines() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name.startswith("custom_components.print_sentinel")
            and "push connection" in r.getMessage().lower()
            and r.levelno >= logging.INFO
        ]

    server.socket_close_after_state = True
    before = server.socket_connects
    await server.drop_sockets()
    await wait(hass, freezer, 3.0)
    assert server.socket_connects - before >= 4  # it kept connecting briefly
    lost = push_lines()
    assert [r.levelno for r in lost] == [logging.WARNING]
    assert "the server closed it" in lost[0].getMessage()

    server.socket_close_after_state = False
    await until(hass, freezer, lambda: backend(loaded).pushing, within=10)
    assert len(push_lines()) == 1  # a connection that may drop again is not "back"
    await wait(hass, freezer, 2.5)
    assert [r.levelno for r in push_lines()] == [logging.WARNING, logging.INFO]
    assert backend(loaded).pushing
    assert API_KEY not in caplog.text
