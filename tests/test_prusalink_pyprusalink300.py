"""The PrusaLink backend on pyprusalink 3.0.0, the version Home Assistant's own prusalink pins.

3.0.0 has neither `PrusaLink.get_file_metadata`, `ApiClient.stream_request`,
`pyprusalink.file_metadata` nor `FileTooLarge`: the manifest's
range admits it, so a Home Assistant that has core's prusalink keeps its version and
Print Sentinel still polls, pauses and names the material (from the file name and
the loaded filament; the file itself is not downloaded).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx
from pyprusalink import PrusaLink, types as prusalink_types
from pyprusalink.client import ApiClient
import pytest

from custom_components.print_sentinel.printers import prusalink as prusalink_module
from custom_components.print_sentinel.printers.base import PrinterState
from custom_components.print_sentinel.printers.prusalink import PrusaLinkBackend
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_PASSWORD

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def pyprusalink_300(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take away what pyprusalink 3.1.0 added over 3.0.0."""
    monkeypatch.delattr(PrusaLink, "get_file_metadata")
    monkeypatch.delattr(prusalink_types, "FileTooLarge")
    monkeypatch.delattr(ApiClient, "stream_request")
    monkeypatch.setattr(prusalink_module, "parse_file_metadata", None)


@pytest.mark.usefixtures("pyprusalink_300")
async def test_job_and_material_without_file_metadata(
    client: httpx.AsyncClient, printer: PrusaLinkSimulator
) -> None:
    backend = PrusaLinkBackend(client, printer.url, "maker", PRINTER_PASSWORD)
    printer.start_job(display_name="benchy_0.4n_0.2mm_PETG_MK4S_1h.bgcode")
    printer.set_material(None)
    printer.reset_counters()
    snapshot = await backend.async_poll()
    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert snapshot.job.name == "benchy_0.4n_0.2mm_PETG_MK4S_1h.bgcode"
    assert snapshot.job.material == "PETG"  # from the file name

    printer.start_job(display_name="part.bgcode", material="ASA")
    snapshot = await backend.async_poll()
    assert snapshot.job is not None and snapshot.job.name == "part.bgcode"
    assert snapshot.job.material is None  # the file is not downloaded
    assert printer.count(method="GET", path=snapshot.job.path) == 0

    await backend.async_pause()
    assert (await backend.async_poll()).state is PrinterState.PAUSED
