"""Camera: a snapshot URL's JPEG, or the job's thumbnail."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import logging
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.print_sentinel.const import CONF_SNAPSHOT_URL
from custom_components.print_sentinel.pictures import async_fresh_picture
from simulators.prusalink import PrusaLinkSimulator

from .common import NEXT_POLL, advance

CAMERA = "camera.prusa_mk4s_camera"
NOZZLE = "sensor.prusa_mk4s_nozzle_temperature"
JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def only_camera() -> Generator[None]:
    """Set up the camera platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.CAMERA]):
        yield


@pytest.fixture
async def esp32_camera(printer: PrusaLinkSimulator) -> AsyncGenerator[str]:
    """A camera of its own (an ESP32-CAM, go2rtc): its snapshot URL.

    A second simulator serves the same camera on another port, so it keeps
    working while the printer is offline.
    """
    camera = PrusaLinkSimulator(serial="camera-only")
    await camera.start(host="127.0.0.1", port=0)
    yield camera.snapshot_url
    await camera.stop()


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, **options: str) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _camera_logs(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """What the integration logged at `level` since `caplog.clear()`."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno == level
    ]


async def test_camera_entity(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    freezer.move_to("2026-03-01T12:00:00+00:00")
    printer.start_job()
    # the access token in the state is random
    with patch("random.SystemRandom.getrandbits", return_value=123123123123):
        await _setup(hass, mock_config_entry)

    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


async def test_snapshot_url_serves_the_cameras_jpeg(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    printer.start_job()
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})

    # (the records' timelapse takes pictures of its own on a timer)
    before = printer.count("/camera/snapshot.jpg")
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/jpeg"
    assert image.content == printer.frame()
    assert image.content.startswith(JPEG)
    assert printer.count("/camera/snapshot.jpg") == before + 1


async def test_camera_outage_raises_warns_once_and_reports_recovery(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})
    caplog.clear()
    printer.faults.camera_error = True

    # what detection, Prusa Connect and records ask: a fresh picture or an error
    for _ in range(3):
        with pytest.raises(HomeAssistantError):
            await async_fresh_picture(hass, CAMERA)
    assert len(_camera_logs(caplog, logging.WARNING)) == 1
    assert _camera_logs(caplog, logging.INFO) == []

    printer.faults.camera_error = False
    assert (await async_fresh_picture(hass, CAMERA)).startswith(JPEG)
    assert len(_camera_logs(caplog, logging.INFO)) == 1

    # a second outage is worth a second warning
    printer.faults.camera_error = True
    with pytest.raises(HomeAssistantError):
        await async_fresh_picture(hass, CAMERA)
    assert len(_camera_logs(caplog, logging.WARNING)) == 2


async def test_unreachable_camera_raises(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: "http://127.0.0.1:9/x"})
    caplog.clear()
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, CAMERA)
    assert len(_camera_logs(caplog, logging.WARNING)) == 1


async def test_camera_answering_html_instead_of_a_jpeg_raises(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})
    caplog.clear()
    printer.faults.camera_not_image = True
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, CAMERA)
    assert len(_camera_logs(caplog, logging.WARNING)) == 1


async def test_snapshot_camera_stays_available_while_the_printer_is_offline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    esp32_camera: str,
) -> None:
    with patch(
        "custom_components.print_sentinel.PLATFORMS", [Platform.CAMERA, Platform.SENSOR]
    ):
        await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: esp32_camera})
        await printer.go_offline()
        await advance(hass, freezer, 31)

    assert hass.states.get(NOZZLE).state == STATE_UNAVAILABLE
    assert hass.states.get(CAMERA).state != STATE_UNAVAILABLE
    image = await async_get_image(hass, CAMERA)
    assert image.content.startswith(JPEG)


async def test_thumbnail_camera_is_unavailable_while_the_printer_is_offline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(hass, mock_config_entry)
    await printer.go_offline()
    await advance(hass, freezer, 31)
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE


async def test_without_a_url_the_camera_shows_the_jobs_thumbnail(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(hass, mock_config_entry)
    # no job, nothing to show
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, CAMERA)

    printer.start_job(display_name="Benchy_0.4n_0.2mm_PLA_MK4S_1h.bgcode")
    await advance(hass, freezer, 31)
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/png"
    assert image.content.startswith(PNG)
    pla = image.content
    # the thumbnail is read once per job, not on every view
    assert (await async_get_image(hass, CAMERA)).content == pla
    assert printer.count(f"/thumb/l/usb/{printer.job.file.name}", method="GET") == 1

    printer.cancel()
    printer.idle()
    printer.start_job(
        display_name="Benchy_0.4n_0.2mm_PETG_MK4S_1h.bgcode", material="PETG"
    )
    await advance(hass, freezer, NEXT_POLL)
    petg = (await async_get_image(hass, CAMERA)).content
    assert petg.startswith(PNG)
    assert petg != pla  # the new job's own picture

    printer.cancel()
    printer.idle()
    await advance(hass, freezer, NEXT_POLL)
    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, CAMERA)


async def test_without_a_picture_the_frontend_is_not_sent_to_a_broken_image(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """No snapshot URL and no job: the card shows the icon, the proxy no HTTP 500."""
    await _setup(hass, mock_config_entry)
    client = await hass_client()

    state = hass.states.get(CAMERA)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE  # the card asks for no picture
    assert "entity_picture" not in state.attributes
    response = await client.get(f"/api/camera_proxy/{CAMERA}")
    assert response.status != 500

    printer.start_job(display_name="Benchy_0.4n_0.2mm_PLA_MK4S_1h.bgcode")
    await advance(hass, freezer, 31)
    state = hass.states.get(CAMERA)
    assert state is not None
    picture = state.attributes["entity_picture"]
    assert picture.startswith(f"/api/camera_proxy/{CAMERA}?token=")
    response = await client.get(picture)
    assert response.status == 200
    assert (await response.read()).startswith(PNG)

    printer.cancel()
    printer.idle()
    await advance(hass, freezer, NEXT_POLL)
    state = hass.states.get(CAMERA)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    assert "entity_picture" not in state.attributes


async def test_a_failing_snapshot_url_logs_its_status_never_its_token(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The warning names the HTTP status, never the URL's query with its token;
    unavailable after the failures, it still takes the next request, and the
    first picture that works makes it available again."""
    url = f"{printer.snapshot_url}?token=cam-Secret-token-77"
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: url})
    caplog.clear()
    printer.faults.camera_error = True
    for _ in range(3):
        with pytest.raises(HomeAssistantError):
            await async_fresh_picture(hass, CAMERA)
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE
    (warning,) = _camera_logs(caplog, logging.WARNING)
    assert "HTTP 500" in warning
    assert "cam-Secret-token-77" not in caplog.text

    printer.faults.camera_error = False
    assert (await async_fresh_picture(hass, CAMERA)).startswith(JPEG)
    assert hass.states.get(CAMERA).state != STATE_UNAVAILABLE


async def test_a_failing_snapshot_url_shows_its_last_picture_never_a_500(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The camera card keeps the last picture while the camera fails, then recovers.

    A camera that has not given a picture yet is off for a minute after a failure:
    HA's proxy answers 503 without asking, never a 500 per request.
    """
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})
    client = await hass_client()
    printer.faults.camera_error = True
    first = await client.get(f"/api/camera_proxy/{CAMERA}")
    assert first.status == 500  # nothing to show yet: HA's proxy's own answer
    statuses = [
        (await client.get(f"/api/camera_proxy/{CAMERA}")).status for _ in range(5)
    ]
    assert statuses == [503] * 5
    # detection asks the camera itself, and the first picture that works turns it on
    printer.faults.camera_error = False
    assert (await async_fresh_picture(hass, CAMERA)).startswith(JPEG)
    response = await client.get(f"/api/camera_proxy/{CAMERA}")
    assert response.status == 200
    good = await response.read()

    printer.faults.camera_error = True
    for _ in range(4):
        response = await client.get(f"/api/camera_proxy/{CAMERA}")
        assert response.status == 200
        assert await response.read() == good
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError):  # detection never judges the old one
        await async_fresh_picture(hass, CAMERA)

    printer.faults.camera_error = False
    await advance(hass, freezer, 61)
    response = await client.get(f"/api/camera_proxy/{CAMERA}")
    assert response.status == 200
    assert hass.states.get(CAMERA).state != STATE_UNAVAILABLE


async def test_a_thumbnail_camera_of_an_unreachable_printer_is_off_not_a_500(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    printer.start_job()
    await _setup(hass, mock_config_entry)
    client = await hass_client()
    assert (await client.get(f"/api/camera_proxy/{CAMERA}")).status == 200
    await printer.go_offline()
    await advance(hass, freezer, 31)
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE
    assert (await client.get(f"/api/camera_proxy/{CAMERA}")).status == 503
    await printer.come_back()
    await advance(hass, freezer, 31)
    assert (await client.get(f"/api/camera_proxy/{CAMERA}")).status == 200
