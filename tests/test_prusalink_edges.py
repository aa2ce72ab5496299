"""PrusaLink answers other firmware versions give, and jobs that change under us.

`OddPrusaLink` is the PrusaLink simulator with a few endpoints switched to what
older or unusual firmware answers (a missing endpoint, an unexpected body). Digest
auth, the job model and every other endpoint stay the simulator's own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
import json
from typing import Any

from aiohttp import web
import httpx
import pytest

from custom_components.print_sentinel.printers.base import (
    PrinterCommandRefused,
    PrinterError,
    PrinterResponseError,
    PrinterState,
)
from custom_components.print_sentinel.printers.prusalink import PrusaLinkBackend
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_PASSWORD, PRINTER_SERIAL

pytestmark = pytest.mark.usefixtures("socket_enabled")

type Rewrite = Callable[[dict[str, Any]], object]


def _not_found() -> web.Response:
    return web.json_response({"title": "Not Found", "text": "Not Found"}, status=404)


class OddPrusaLink(PrusaLinkSimulator):
    """The simulator, with switches for answers other firmware versions give."""

    def __init__(self, **kwargs: Any) -> None:
        """Behave like the plain simulator until a switch is set."""
        super().__init__(PRINTER_PASSWORD, serial=PRINTER_SERIAL, **kwargs)
        self.version_answer: object = None
        """Replace `/api/version`'s body with this (None: the real one)."""
        self.info_answer: object = None
        """Replace `/api/v1/info`'s body with this (None: the real one)."""
        self.info_missing = False
        """`/api/v1/info` answers 404 (firmware before the v1 API)."""
        self.legacy_missing = False
        """`/api/printer` answers 404 (firmware without the legacy API)."""
        self.status_answer: object = None
        """Replace `/api/v1/status`'s body with this (None: the real one)."""
        self.job_rewrite: Rewrite | None = None
        """Rewrite `/api/v1/job`'s body (while there is a job)."""
        self.job_failures = 0
        """Answer the next this many `/api/v1/job` requests with HTTP 500."""
        self.job_gone_once = False
        """Answer the next `/api/v1/job` with 204, as if the job just ended."""

    async def _version(self, request: web.Request) -> web.Response:
        if self.version_answer is not None:
            return web.json_response(self.version_answer)
        return await super()._version(request)

    async def _info(self, request: web.Request) -> web.Response:
        if self.info_missing:
            return _not_found()
        if self.info_answer is not None:
            return web.json_response(self.info_answer)
        return await super()._info(request)

    async def _legacy_printer(self, request: web.Request) -> web.Response:
        if self.legacy_missing:
            return _not_found()
        return await super()._legacy_printer(request)

    async def _status(self, request: web.Request) -> web.Response:
        if self.status_answer is not None:
            return web.json_response(self.status_answer)
        return await super()._status(request)

    async def _job(self, request: web.Request) -> web.Response:
        if self.job_failures > 0:
            self.job_failures -= 1
            return web.json_response({"title": "Internal Server Error"}, status=500)
        if self.job_gone_once:
            self.job_gone_once = False
            return web.Response(status=204)
        response = await super()._job(request)
        if self.job_rewrite is None or response.status != 200:
            return response
        assert response.text is not None
        return web.json_response(self.job_rewrite(json.loads(response.text)))


@pytest.fixture
async def odd() -> AsyncGenerator[OddPrusaLink]:
    """The switchable simulator on a free loopback port."""
    sim = OddPrusaLink()
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def _backend(client: httpx.AsyncClient, sim: PrusaLinkSimulator) -> PrusaLinkBackend:
    return PrusaLinkBackend(client, sim.url, "maker", PRINTER_PASSWORD)


# --- identity --------------------------------------------------------------------


async def test_firmware_without_the_v1_info_endpoint_is_still_identified(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    odd.info_missing = True

    identity = await _backend(client, odd).async_get_identity()

    # no serial number without /api/v1/info: the hostname identifies the printer
    assert identity.serial_number is None
    assert identity.unique_id == "prusa-mk4s"
    assert identity.hostname == "prusa-mk4s"
    assert identity.model == "MK4S"
    assert identity.name == "Prusa MK4S"
    assert odd.count("/api/v1/info", status=404) == 1


async def test_a_printer_named_by_its_owner_keeps_the_name_without_a_model(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    """Firmware before 6.5.1 reports no model; a custom name does not reveal it."""
    odd.faults.omit_version_firmware = True
    odd.info_answer = {"name": "Workshop left", "serial": "SN-1", "hostname": ""}

    identity = await _backend(client, odd).async_get_identity()

    assert identity.name == "Workshop left"
    assert identity.model is None
    assert identity.unique_id == "SN-1"
    assert identity.hostname == "prusa-mk4s"  # from /api/version


@pytest.mark.parametrize(
    ("switch", "value", "message"),
    [
        # another web server that happens to answer /api/version
        ("version_answer", {"server": "nginx"}, "no PrusaLink API"),
        ("info_answer", ["not", "an", "object"], "/api/v1/info"),
    ],
)
async def test_identity_from_something_that_is_not_prusalink_is_refused(
    client: httpx.AsyncClient,
    odd: OddPrusaLink,
    switch: str,
    value: object,
    message: str,
) -> None:
    setattr(odd, switch, value)

    with pytest.raises(PrinterResponseError, match=message):
        await _backend(client, odd).async_get_identity()


@pytest.mark.parametrize(
    "status", [{"printer": "IDLE"}, ["IDLE"], {"storage": {}}], ids=str
)
async def test_an_unexpected_status_answer_fails_the_poll(
    client: httpx.AsyncClient, odd: OddPrusaLink, status: object
) -> None:
    odd.status_answer = status

    with pytest.raises(PrinterResponseError, match="/api/v1/status"):
        await _backend(client, odd).async_poll()


# --- the job answer ----------------------------------------------------------------


def _without_refs_and_display_name(job: dict[str, Any]) -> dict[str, Any]:
    file = dict(job["file"])
    del file["refs"], file["display_name"]
    return {**job, "file": file}


async def test_job_without_file_refs_or_display_name_uses_the_short_name(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    odd.start_job(display_name="part.bgcode", material="PETG")
    odd.set_material(None)
    odd.job_rewrite = _without_refs_and_display_name
    backend = _backend(client, odd)

    snapshot = await backend.async_poll()

    assert snapshot.job is not None
    assert snapshot.job.name == odd.job.file.name  # the 8.3 name, e.g. PART~1.BGC
    assert snapshot.job.path is None
    assert snapshot.job.thumbnail_path is None
    # no download reference: the file is not read for its material
    assert snapshot.material is None
    assert odd.count(f"/usb/{odd.job.file.name}") == 0
    assert await backend.async_get_thumbnail() is None
    assert odd.count(f"/thumb/l/usb/{odd.job.file.name}") == 0


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda job: {**job, "file": "PART.BGC"},
        lambda job: {**job, "file": {**job["file"], "refs": ["/usb/PART.BGC"]}},
        lambda job: {**job, "file": None},
    ],
    ids=["file_is_text", "refs_is_a_list", "file_is_null"],
)
async def test_job_with_malformed_file_fields_still_reports_the_print(
    client: httpx.AsyncClient, odd: OddPrusaLink, rewrite: Rewrite
) -> None:
    odd.start_job(display_name="part.bgcode", duration=600)
    odd.advance(60)
    odd.job_rewrite = rewrite

    snapshot = await _backend(client, odd).async_poll()

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert snapshot.job.id == odd.job_id
    assert snapshot.job.progress == 10
    assert snapshot.job.thumbnail_path is None


async def test_job_answer_that_is_not_an_object_fails_the_poll(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    odd.start_job(display_name="part.bgcode")
    odd.job_rewrite = lambda job: [job]

    with pytest.raises(PrinterResponseError, match="/api/v1/job"):
        await _backend(client, odd).async_poll()


async def test_job_that_ends_between_status_and_job_requests(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    """/api/v1/status still shows the job, /api/v1/job already answers 204."""
    odd.start_job(display_name="part.bgcode")
    odd.job_gone_once = True

    snapshot = await _backend(client, odd).async_poll()

    assert snapshot.job is None
    assert snapshot.state is PrinterState.PRINTING


async def test_a_failed_job_read_is_retried_on_the_next_poll(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    backend = _backend(client, odd)
    odd.start_job(display_name="first_0.4n_0.2mm_PLA_MK4S_1h.bgcode", duration=60)
    await backend.async_poll()
    odd.advance(61)  # finished
    odd.idle()
    await backend.async_poll()
    odd.start_job(display_name="second_0.4n_0.2mm_PETG_MK4S_1h.bgcode")
    odd.job_failures = 1

    with pytest.raises(PrinterError):
        await backend.async_poll()
    snapshot = await backend.async_poll()

    assert snapshot.job is not None
    assert snapshot.job.name == "second_0.4n_0.2mm_PETG_MK4S_1h.bgcode"
    assert snapshot.job.material == "PETG"


async def test_a_huge_file_without_a_size_is_not_downloaded_for_its_material(
    socket_enabled: None, client: httpx.AsyncClient
) -> None:
    """The job answer lacks `size`; the download's Content-Length gives it away."""
    odd = OddPrusaLink(print_file_size=5 * 1024 * 1024)
    await odd.start(host="127.0.0.1", port=0)
    try:
        odd.start_job(display_name="big.bgcode", material="ASA")
        odd.set_material(None)
        odd.job_rewrite = lambda job: {
            **job,
            "file": {k: v for k, v in job["file"].items() if k != "size"},
        }

        snapshot = await _backend(client, odd).async_poll()
    finally:
        await odd.stop()

    assert snapshot.job is not None
    assert snapshot.job.name == "big.bgcode"
    assert snapshot.material is None


async def test_a_missing_print_file_leaves_the_material_unknown(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    odd.start_job(display_name="part.bgcode", material="PETG")
    odd.set_material(None)
    odd.job_rewrite = lambda job: {
        **job,
        "file": {
            **job["file"],
            "refs": {"download": "/usb/GONE.BGC", "thumbnail": "/thumb/l/usb/GONE.BGC"},
        },
    }
    backend = _backend(client, odd)

    snapshot = await backend.async_poll()

    assert snapshot.job is not None and snapshot.job.name == "part.bgcode"
    assert snapshot.material is None
    assert odd.count("/usb/GONE.BGC", status=404) == 1
    # the thumbnail is gone too: no picture, no error
    assert await backend.async_get_thumbnail() is None
    assert odd.count("/thumb/l/usb/GONE.BGC", status=404) == 1


# --- the loaded material -------------------------------------------------------------


async def test_without_the_legacy_api_the_material_comes_from_the_job(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    odd.legacy_missing = True
    odd.start_job(display_name="Benchy_0.4n_0.2mm_PETG_MK4S_1h.bgcode", material="PETG")
    backend = _backend(client, odd)

    snapshot = await backend.async_poll()

    assert snapshot.material == "PETG"
    assert odd.count("/api/printer", status=404) == 1
    # a second poll does not ask the missing endpoint again right away
    await backend.async_poll()
    assert odd.count("/api/printer", status=404) == 1


# --- commands on a job that vanished ---------------------------------------------------


async def test_commands_after_the_printer_lost_the_job_are_refused(
    client: httpx.AsyncClient, odd: OddPrusaLink
) -> None:
    backend = _backend(client, odd)
    odd.start_job(display_name="part.bgcode")
    await backend.async_poll()
    odd.reboot()  # the job is gone; we have not polled since

    for command in (backend.async_pause, backend.async_resume, backend.async_cancel):
        with pytest.raises(PrinterCommandRefused, match="gone"):
            await command()
    assert (
        sum(
            1
            for r in odd.requests
            if r.path.startswith("/api/v1/job/") and r.status == 404
        )
        == 3
    )
