"""The PrusaLink backend on its own: what it reads, and how it fails."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from unittest.mock import patch

import httpx
import pytest

from custom_components.print_sentinel.printers import prusalink
from custom_components.print_sentinel.printers.base import (
    PrinterCommandRefused,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterResponseError,
    PrinterState,
)
from custom_components.print_sentinel.printers.prusalink import (
    PrusaLinkBackend,
    material_from_filename,
    normalize_host,
    normalize_material,
)
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_PASSWORD

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def _backend(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> PrusaLinkBackend:
    return PrusaLinkBackend(client, printer.url, "maker", PRINTER_PASSWORD)


async def test_hanging_printer_times_out(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = _backend(client, printer)
    await backend.async_poll()
    printer.faults.hang = True
    with (
        patch.object(prusalink, "REQUEST_TIMEOUT", 0.3),
        pytest.raises(PrinterConnectionError, match="in time"),
    ):
        await backend.async_poll()
    printer.faults.hang = False
    assert (await backend.async_poll()).state is PrinterState.IDLE


async def test_server_error_is_a_response_error(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    printer.faults.server_error = True
    with pytest.raises(PrinterResponseError, match="HTTP 500"):
        await _backend(client, printer).async_poll()


async def test_job_is_read_once_per_job_and_material_from_the_file(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = _backend(client, printer)
    printer.start_job(display_name="part.bgcode", material="PETG")
    printer.set_material(None)  # telemetry has nothing: the file's metadata tells
    printer.reset_counters()
    first = await backend.async_poll()
    second = await backend.async_poll()
    assert first.job is not None and first.job.name == "part.bgcode"
    assert first.material == "PETG"
    assert second.job is not None and second.job.id == first.job.id
    assert printer.count("/api/v1/job", method="GET", status=200) == 1
    assert printer.count("/api/v1/status", method="GET", status=200) == 2


async def test_firmware_without_version_fields_uses_info(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    printer.faults.omit_version_firmware = True
    identity = await _backend(client, printer).async_get_identity()
    assert identity.model == "MK4S"  # from the printer's name "Prusa MK4S"
    assert identity.serial_number == printer.serial


async def test_commands_without_a_job_are_refused(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = _backend(client, printer)
    await backend.async_poll()
    for command in (backend.async_pause, backend.async_resume, backend.async_cancel):
        with pytest.raises(PrinterCommandRefused):
            await command()
    assert await backend.async_get_thumbnail() is None


async def test_continue_on_old_firmware_is_unsupported(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = _backend(client, printer)
    printer.start_job(display_name="part.bgcode")
    await backend.async_poll()
    printer.set_old_firmware()
    with pytest.raises(PrinterCommandUnsupported):
        await backend.async_continue()


async def test_thumbnail_of_the_current_job(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = _backend(client, printer)
    printer.start_job(display_name="part.bgcode")
    await backend.async_poll()
    thumbnail = await backend.async_get_thumbnail()
    assert thumbnail is not None and thumbnail.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("192.168.1.5", "http://192.168.1.5"),
        ("prusa.local:8080", "http://prusa.local:8080"),
        ("https://printer/some/page", "https://printer"),
        (" http://maker:pw@10.0.0.2/ ", "http://10.0.0.2"),
    ],
)
def test_host_normalisation(typed: str, url: str) -> None:
    assert normalize_host(typed) == url


@pytest.mark.parametrize(
    ("reported", "material"),
    [
        ("PLA", "PLA"),
        (" petg ", "PETG"),
        ("---", None),
        ("", None),
        (None, None),
        (3, None),
    ],
)
def test_material_normalisation(reported: object, material: str | None) -> None:
    assert normalize_material(reported) == material


@pytest.mark.parametrize(
    ("name", "material"),
    [
        ("Benchy_0.4n_0.2mm_PETG_MK4S_1h2m.bgcode", "PETG"),
        ("box_0.6n_0.3mm_ASA_COREONE_3h.gcode", "ASA"),
        ("plain.gcode", None),
        (None, None),
    ],
)
def test_material_from_slicer_file_name(name: str | None, material: str | None) -> None:
    assert material_from_filename(name) == material
