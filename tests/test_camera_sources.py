"""Camera sources beyond a snapshot URL: the backend's own webcam, the thumbnail."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import logging
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel import camera
from custom_components.print_sentinel.const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    CONF_SNAPSHOT_URL,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from custom_components.print_sentinel.pictures import async_fresh_picture
from simulators.prusalink import PrusaLinkSimulator
from simulators.repetier import RepetierSimulator

from .common import advance

JPEG = b"\xff\xd8"
PNG = b"\x89PNG\r\n\x1a\n"
PRUSA_CAMERA = "camera.prusa_mk4s_camera"
REPETIER_CAMERA = "camera.prusa_i3_camera"
REPETIER_KEY = "repetier-Camera-key-77"
SLUG = "prusa_i3"


@pytest.fixture(autouse=True)
def only_camera() -> Generator[None]:
    """Set up the camera platform only."""
    with patch("custom_components.print_sentinel.PLATFORMS", [Platform.CAMERA]):
        yield


def _logs(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel") and r.levelno == level
    ]


# --- Repetier-Server: the printer's webcam through the server ----------------------


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[RepetierSimulator]:
    sim = RepetierSimulator(api_key=REPETIER_KEY, printers=[(SLUG, "Prusa i3")])
    sim.websocket = False  # polled: what runs while push is down (push: tests/repetier/test_push.py)
    await sim.start("127.0.0.1", 0)
    yield sim
    await sim.stop()


@pytest.fixture
async def repetier(hass: HomeAssistant, server: RepetierSimulator) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Prusa i3",
        unique_id=f"{server.server_uuid}_{SLUG}",
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: server.port,
            CONF_API_KEY: REPETIER_KEY,
            CONF_PRINTER_SLUG: SLUG,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _webcam_requests(server: RepetierSimulator) -> int:
    return sum(1 for r in server.requests if r.path == f"/printer/camjpg/{SLUG}")


async def test_server_webcam_outage_warns_once_and_reports_recovery(
    hass: HomeAssistant,
    server: RepetierSimulator,
    repetier: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert (await async_get_image(hass, REPETIER_CAMERA)).content.startswith(JPEG)
    caplog.clear()
    await server.go_down()

    for _ in range(3):
        with pytest.raises(HomeAssistantError):
            await async_fresh_picture(hass, REPETIER_CAMERA)
    warnings = _logs(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "Prusa i3" in warnings[0]
    assert REPETIER_KEY not in caplog.text
    # the frontend keeps the last picture meanwhile
    assert (await async_get_image(hass, REPETIER_CAMERA)).content.startswith(JPEG)

    await server.come_up()
    assert (await async_fresh_picture(hass, REPETIER_CAMERA)).startswith(JPEG)
    image = await async_get_image(hass, REPETIER_CAMERA)
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(JPEG)
    assert len(_logs(caplog, logging.INFO)) == 1  # "works again"


async def test_server_webcam_with_a_refused_key_shows_no_picture(
    hass: HomeAssistant,
    server: RepetierSimulator,
    repetier: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key was revoked; the next poll starts reauth, the camera fails quietly."""
    caplog.clear()
    server.api_key = "rotated-key"

    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, REPETIER_CAMERA)
    assert len(_logs(caplog, logging.WARNING)) == 1
    assert _webcam_requests(server) == 1
    assert REPETIER_KEY not in caplog.text


# --- PrusaLink: the job's thumbnail --------------------------------------------------


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, **options: str) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_thumbnail_that_fails_to_load_is_read_again_next_time(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(hass, mock_config_entry)
    printer.start_job(display_name="part.bgcode")
    await advance(hass, freezer, 31)
    thumbnail = f"/thumb/l/usb/{printer.job.file.name}"
    printer.faults.server_error = True

    with pytest.raises(HomeAssistantError):
        await async_get_image(hass, PRUSA_CAMERA)
    assert printer.count(thumbnail, status=500) == 1

    # the failure is not remembered as "no thumbnail for this job"
    printer.faults.server_error = False
    image = await async_get_image(hass, PRUSA_CAMERA)
    assert image.content_type == "image/png"
    assert image.content.startswith(PNG)
    assert printer.count(thumbnail, status=200) == 1


# --- large pictures from a snapshot URL -----------------------------------------------

TRUNCATED = (
    "camera._async_snapshot reads the body with one `response.content.read(n)`, which "
    "returns only what is buffered (~128 KiB): larger pictures come back truncated, "
    "and the size limit never triggers"
)


async def test_a_4k_snapshot_arrives_whole(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    printer.camera_size = (3840, 2160)
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})

    image = await async_get_image(hass, PRUSA_CAMERA)

    assert len(printer.frame()) > 128 * 1024
    assert image.content == printer.frame()


async def test_oversized_snapshot_is_refused_with_one_warning(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A camera streaming instead of answering one picture must not fill memory.

    The simulator's oversized picture is 12 MiB; the limit is lowered to 8 MiB so
    that it counts as too large (the real limit is 20 MiB).
    """
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})
    caplog.clear()
    printer.faults.camera_oversized = True

    with patch.object(camera, "MAX_SNAPSHOT_BYTES", 8 * 1024 * 1024):
        for _ in range(2):
            with pytest.raises(HomeAssistantError):
                await async_get_image(hass, PRUSA_CAMERA)

    warnings = _logs(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "too large" in warnings[0]
