"""The print status blueprint: started, finished, failed, errors, with a snapshot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from . import FakePrinter, async_create_automation, register_printer

BLUEPRINT = "print_status_notifications.yaml"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory."""
    return hass_tmp_config_dir


@pytest.fixture
def printer(hass: HomeAssistant) -> FakePrinter:
    """An idle printer whose job event entity has not fired yet."""
    printer = register_printer(hass)
    hass.states.async_set(printer["state"], "idle")
    hass.states.async_set(printer["print_job"], "unknown", {"event_type": None})
    return printer


@pytest.fixture
def notifications(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture the notifications sent."""
    return async_mock_service(hass, "notify", "mobile_app_phone")


class JobEvents:
    """Fires the print job event entity the way an event entity changes state."""

    def __init__(self, hass: HomeAssistant, printer: FakePrinter) -> None:
        """Start the clock of the fake events."""
        self.hass = hass
        self.entity_id = printer["print_job"]
        self.when = dt_util.utcnow()

    async def fire(
        self,
        event_type: str,
        file_name: str | None = "benchy.gcode",
        progress: float | None = 0,
    ) -> None:
        """Fire one event: a new timestamp state with the event's attributes."""
        self.when += timedelta(seconds=7)
        self.hass.states.async_set(
            self.entity_id,
            self.when.isoformat(),
            {
                "event_type": event_type,
                "file_name": file_name,
                "job_id": 42,
                "progress": progress,
                "printer_state": "printing",
            },
        )
        await self.hass.async_block_till_done()


@pytest.fixture
def job(hass: HomeAssistant, printer: FakePrinter) -> JobEvents:
    """Fire job events."""
    return JobEvents(hass, printer)


async def _create(hass: HomeAssistant, printer: FakePrinter, **extra: Any) -> None:
    inputs = {
        "print_job_event": printer["print_job"],
        "state_sensor": printer["state"],
        "camera": printer["camera"],
        "notify_action": "notify.mobile_app_phone",
        **extra,
    }
    await async_create_automation(hass, BLUEPRINT, inputs)


async def test_print_started_notification_with_file_and_snapshot(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    await job.fire("started")

    assert len(notifications) == 1
    data = notifications[0].data
    assert data["title"] == "MK4S: Print started"
    assert data["message"] == "benchy.gcode (0 %)."
    assert data["data"]["image"] == f"/api/camera_proxy/{printer['camera']}"


@pytest.mark.parametrize(
    ("event_type", "title"),
    [
        ("finished", "MK4S: Print finished"),
        ("cancelled", "MK4S: Print cancelled"),
        ("failed", "MK4S: Print failed"),
    ],
)
async def test_print_endings_are_notified_with_progress(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
    event_type: str,
    title: str,
) -> None:
    await _create(hass, printer)

    await job.fire(event_type, progress=63.6)

    assert [n.data["title"] for n in notifications] == [title]
    assert notifications[0].data["message"] == "benchy.gcode (64 %)."


async def test_only_selected_job_events_are_notified(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer, job_events=["paused", "resumed"])

    await job.fire("started")
    await job.fire("paused", progress=20)
    await job.fire("resumed", progress=20)
    await job.fire("finished", progress=100)

    assert [n.data["title"] for n in notifications] == [
        "MK4S: Print paused",
        "MK4S: Print resumed",
    ]


async def test_two_events_of_the_same_type_are_both_notified(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    await job.fire("started", file_name="first.gcode")
    await job.fire("started", file_name="second.gcode")

    assert [n.data["message"] for n in notifications] == [
        "first.gcode (0 %).",
        "second.gcode (0 %).",
    ]


async def test_entity_coming_back_online_is_not_a_new_event(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await job.fire("finished", progress=100)
    before = hass.states.get(printer["print_job"])
    assert before is not None
    await _create(hass, printer)

    hass.states.async_set(printer["print_job"], "unavailable", before.attributes)
    await hass.async_block_till_done()
    hass.states.async_set(printer["print_job"], before.state, before.attributes)
    await hass.async_block_till_done()

    assert not notifications


async def test_printer_error_is_notified_with_the_running_file(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer, job_events=[])
    await job.fire("started", file_name="vase.gcode")
    hass.states.async_set(printer["state"], "printing")

    hass.states.async_set(printer["state"], "error")
    await hass.async_block_till_done()

    assert [n.data["title"] for n in notifications] == ["MK4S: Printer error"]
    assert notifications[0].data["message"] == "vase.gcode."


@pytest.mark.parametrize(
    ("state", "title"),
    [("error", "MK4S: Printer error"), ("attention", "MK4S: Printer needs attention")],
)
async def test_printer_state_is_notified_with_file_progress_and_snapshot(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
    state: str,
    title: str,
) -> None:
    """The printer's Job name and Progress sensors fill a state notification."""
    await _create(hass, printer, job_events=[])
    await job.fire("started", file_name="benchy.gcode", progress=0)
    hass.states.async_set(printer["state"], "printing")
    await hass.async_block_till_done()

    # one poll: the sensors and the state change together
    hass.states.async_set(printer["job_name"], "vase.gcode")
    hass.states.async_set(printer["progress"], "63.6", {"unit_of_measurement": "%"})
    hass.states.async_set(printer["state"], state)
    await hass.async_block_till_done()

    assert [n.data["title"] for n in notifications] == [title]
    data = notifications[0].data
    assert data["message"] == "vase.gcode (64 %)."
    assert data["data"]["image"] == f"/api/camera_proxy/{printer['camera']}"


async def test_state_notification_reads_the_chosen_sensors(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
) -> None:
    """Renamed sensors are found through the optional inputs."""
    ent_reg = er.async_get(hass)
    ent_reg.async_update_entity(printer["progress"], new_entity_id="sensor.fortschritt")
    ent_reg.async_update_entity(printer["job_name"], new_entity_id="sensor.auftrag")
    hass.states.async_set("sensor.fortschritt", "12.4")
    hass.states.async_set("sensor.auftrag", "clip.bgcode")
    await _create(
        hass,
        printer,
        job_events=[],
        progress_sensor="sensor.fortschritt",
        job_name_sensor="sensor.auftrag",
    )

    hass.states.async_set(printer["state"], "attention")
    await hass.async_block_till_done()

    assert [n.data["message"] for n in notifications] == ["clip.bgcode (12 %)."]


async def test_state_notification_without_progress_or_job_name(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
) -> None:
    """A printer in error with no job: no progress, no name, still notified."""
    await _create(hass, printer, job_events=[], camera=[])
    hass.states.async_set(printer["job_name"], "unknown")
    hass.states.async_set(printer["progress"], "unknown")

    hass.states.async_set(printer["state"], "error")
    await hass.async_block_till_done()

    assert [n.data["message"] for n in notifications] == ["No file name."]
    assert "image" not in notifications[0].data["data"]


async def test_job_events_keep_their_own_progress(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    """A job event reports the progress it carries, not the sensor's."""
    hass.states.async_set(printer["progress"], "12")
    hass.states.async_set(printer["job_name"], "other.gcode")
    await _create(hass, printer)

    await job.fire("failed", progress=80)

    assert [n.data["message"] for n in notifications] == ["benchy.gcode (80 %)."]


async def test_unselected_states_and_other_state_changes_are_quiet(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer, problem_states=["error"])

    for state in ("busy", "printing", "attention", "paused", "unavailable", "error"):
        hass.states.async_set(printer["state"], state)
        await hass.async_block_till_done()

    # from unavailable straight to error is the printer coming back, not news
    assert not notifications


async def test_without_a_camera_the_notification_has_no_image(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer, camera=[])

    await job.fire("started", file_name=None)

    assert notifications[0].data["message"] == "No file name (0 %)."
    assert "image" not in notifications[0].data["data"]


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("0", "0 (0 %)."),
        ("1e5", "1e5 (0 %)."),
        ("[1, 2]", "[1, 2] (0 %)."),
        ("**bold** [x](http://evil)", "**bold** [x](http://evil) (0 %)."),
        ("", "No file name (0 %)."),
        (None, "No file name (0 %)."),
    ],
)
async def test_file_name_is_shown_as_the_text_it_is(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
    file_name: str | None,
    message: str,
) -> None:
    """A file named 0 is no "No file name"; a mobile notification is plain text."""
    await _create(hass, printer)

    await job.fire("started", file_name=file_name)

    assert notifications[0].data["message"] == message


async def test_file_name_is_escaped_where_markdown_renders_it(
    hass: HomeAssistant, printer: FakePrinter, job: JobEvents
) -> None:
    """notify.persistent_notification renders Markdown: links and emphasis escaped."""
    calls = async_mock_service(hass, "notify", "persistent_notification")
    await _create(hass, printer, notify_action="notify.persistent_notification")

    await job.fire("started", file_name="# **bold** [x](http://evil) <b>_")

    assert calls[0].data["message"] == (
        "\\# \\*\\*bold\\*\\* \\[x\\](http://evil) \\<b\\>\\_ (0 %)."
    )


async def test_long_file_name_is_cut(
    hass: HomeAssistant,
    printer: FakePrinter,
    job: JobEvents,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    await job.fire("started", file_name="n" * 5_000)

    assert notifications[0].data["message"] == "n" * 255 + " (0 %)."


def _record_event(
    printer: FakePrinter, *, timelapse: str | None, fmt: str | None
) -> dict[str, Any]:
    """The data of `print_sentinel_print_recorded`, as the recorder fires it."""
    base = "/api/print_sentinel/records/entry/20261203-1"
    return {
        "entry_id": "entry",
        "device_id": printer.device_id,
        "record_id": "20261203-1",
        "file_name": "benchy.gcode",
        "outcome": "paused_by_sentinel",
        "duration": 3600,
        "timelapse": None,
        "timelapse_format": fmt,
        "chart": None,
        "timelapse_url": f"{base}/{timelapse}" if timelapse else None,
        "chart_url": f"{base}/chart.png",
        "chart_entity_id": "image.mk4s_detection_chart",
    }


async def test_the_print_record_is_not_sent_unless_chosen(
    hass: HomeAssistant, printer: FakePrinter, notifications: list[ServiceCall]
) -> None:
    await _create(hass, printer)

    hass.bus.async_fire(
        "print_sentinel_print_recorded",
        _record_event(printer, timelapse="timelapse.mp4", fmt="mp4"),
    )
    await hass.async_block_till_done()

    assert notifications == []


@pytest.mark.parametrize(
    ("choice", "timelapse", "fmt", "title", "attachment"),
    [
        ("chart", "timelapse.mp4", "mp4", "MK4S: Detection chart", "image"),
        ("timelapse", "timelapse.mp4", "mp4", "MK4S: Timelapse", "video"),
        ("timelapse", "timelapse.webp", "webp", "MK4S: Timelapse", "image"),
        # no timelapse could be made: the chart instead
        ("timelapse", None, None, "MK4S: Detection chart", "image"),
    ],
)
async def test_the_print_record_is_sent_when_it_is_ready(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    choice: str,
    timelapse: str | None,
    fmt: str | None,
    title: str,
    attachment: str,
) -> None:
    await _create(hass, printer, print_record=choice)
    other = register_printer(hass, serial="SN-OTHER", name="Other")
    event = _record_event(printer, timelapse=timelapse, fmt=fmt)

    hass.bus.async_fire(
        "print_sentinel_print_recorded", {**event, "device_id": other.device_id}
    )
    await hass.async_block_till_done()
    assert notifications == []  # another printer's record

    hass.bus.async_fire("print_sentinel_print_recorded", event)
    await hass.async_block_till_done()

    assert len(notifications) == 1
    data = notifications[0].data
    assert data["title"] == title
    assert data["message"] == "benchy.gcode (paused by Print Sentinel)."
    url = (
        event["timelapse_url"]
        if choice == "timelapse" and timelapse
        else event["chart_url"]
    )
    assert data["data"][attachment] == url
    assert data["data"]["group"] == "print_sentinel"
