"""The Repetier-Server backend against hostile answers of the simulated server.

Every answer is hostile until checked: the client parses it into bounded, finite
values, or raises one of its own errors; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
import math

import aiohttp
import pytest

from custom_components.print_sentinel.printers.base import (
    MAX_IMAGE_BODY,
    MAX_JSON_BODY,
    MAX_TEXT,
    PrinterAuthError,
    PrinterBodyTooLarge,
    PrinterResponseError,
    PrinterState,
    SeenOnce,
    bounded_text,
    parse_json,
)
from custom_components.print_sentinel.printers.repetier import (
    RepetierBackend,
    _job_id as repetier_job_id,
    async_list_printers,
)
from simulators.repetier import RepetierSimulator

API_KEY = "0f1e2d3c-secret-repetier-key"
HOST = "127.0.0.1"
SLUG = "prusa_i3"
MIB = 1024 * 1024


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[RepetierSimulator]:
    """A running simulator with one printer."""
    simulator = RepetierSimulator(api_key=API_KEY, printers=[(SLUG, "Prusa i3")])
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain client session, as HA's shared one."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def backend(sim: RepetierSimulator, session: aiohttp.ClientSession) -> RepetierBackend:
    """The backend for the printer."""
    return RepetierBackend(session, HOST, sim.port, API_KEY, SLUG, request_timeout=10)


def _entry(**job: object) -> str:
    """Return a `listPrinter` answer with one printing job, fields overridden."""
    entry: dict[str, object] = {
        "slug": SLUG,
        "name": "Prusa i3",
        "online": 1,
        "active": True,
        "job": "benchy.gcode",
        "jobid": 7,
        "paused": False,
        "done": 50.0,
        "printTime": 3600.0,
        "printedTimeComp": 1800.0,
    }
    entry |= job
    return json.dumps([entry])


async def test_deeply_nested_json_is_a_response_error(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.raw_answers["listPrinter"] = "[" * 100_000 + "]" * 100_000

    with pytest.raises(PrinterResponseError, match="not valid JSON"):
        await backend.async_poll()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"done": NaN', "progress"),
        ('"done": Infinity', "progress"),
        ('"done": 1e400', "progress"),
        ('"done": 1e300', "progress"),
        ('"done": -5', "progress"),
        ('"printedTimeComp": -100', "time_printing"),
        ('"printedTimeComp": 1e300', "time_printing"),
        ('"printTime": 1e30', "time_remaining"),
        ('"printTime": -Infinity', "time_remaining"),
        ('"printedTimeComp": ' + "9" * 400, "time_printing"),
    ],
)
async def test_non_finite_and_absurd_numbers_are_unknown(
    sim: RepetierSimulator, backend: RepetierBackend, raw: str, field: str
) -> None:
    """NaN, infinities, 1e400, negative and huge times: unknown, never a crash."""
    body = _entry()
    key = raw.split(":", 1)[0]
    sim.raw_answers["listPrinter"] = body.replace(
        key + ": " + str(json.loads(body)[0][key.strip('"')]), raw
    )
    assert raw in sim.raw_answers["listPrinter"]

    snapshot = await backend.async_poll()

    assert snapshot.state is PrinterState.PRINTING
    assert snapshot.job is not None
    assert getattr(snapshot.job, field) is None


async def test_absurd_measurements_are_unknown(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG, "benchy.gcode", duration=3600)
    sim.raw_answers["stateList"] = (
        '{"prusa_i3": {"extruder": [{"tempRead": NaN, "tempSet": 1e400}],'
        ' "heatedBeds": [{"tempRead": 1e300, "tempSet": -1e300}],'
        ' "z": Infinity, "speedMultiply": 1e12, "flowMultiply": -3,'
        ' "layer": 1e300, "activeExtruder": 1e300,'
        ' "fans": [{"on": true, "voltage": NaN}]}}'
    )

    snapshot = await backend.async_poll()

    values = [
        snapshot.nozzle_temperature,
        snapshot.nozzle_target,
        snapshot.bed_temperature,
        snapshot.bed_target,
        snapshot.z_height,
        snapshot.print_speed,
        snapshot.flow,
        snapshot.layer,
        snapshot.fan_speed,
    ]
    assert values == [None] * len(values)
    assert all(
        not isinstance(value, float) or math.isfinite(value)
        for value in snapshot.extra.values()
    )


async def test_long_job_name_is_cut_and_plain(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.start_job(SLUG, "x" * 5_000 + "\nsecond line", duration=3600)

    snapshot = await backend.async_poll()

    assert snapshot.job is not None
    assert snapshot.job.name is not None
    assert len(snapshot.job.name) == MAX_TEXT
    assert snapshot.job.name.endswith("\u2026")
    assert "\n" not in snapshot.job.name


async def test_long_printer_name_is_cut_in_the_printer_list(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    sim.printer(SLUG).name = "P" * 10_000

    printers = await async_list_printers(session, HOST, sim.port, API_KEY)

    assert len(printers[0].name) == MAX_TEXT


async def test_huge_status_body_is_not_read_whole(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    """A 200 MB status answer (no Content-Length) stops the read near 4 MiB."""
    sim.json_padding = 200 * 1000 * 1000

    with pytest.raises(PrinterBodyTooLarge):
        await backend.async_poll()

    assert sim.bytes_streamed < 64 * MIB


async def test_padded_but_small_status_body_is_read(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.json_padding = 100_000

    assert (await backend.async_poll()).state is PrinterState.IDLE


async def test_huge_webcam_image_is_not_kept(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    """A 300 MiB webcam image is refused after 20 MB, not held for the job."""
    await backend.async_get_identity()
    sim.webcam_padding = 300 * MIB

    with pytest.raises(PrinterBodyTooLarge):
        await backend.async_get_camera_image()

    assert sim.bytes_streamed < MAX_IMAGE_BODY + 64 * MIB


async def test_normal_webcam_image_is_still_served(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    await backend.async_get_identity()
    sim.webcam_padding = 1000

    image = await backend.async_get_camera_image()

    assert image is not None
    assert image.startswith(b"\xff\xd8")


async def test_api_key_with_a_newline_is_an_auth_error(
    sim: RepetierSimulator, session: aiohttp.ClientSession
) -> None:
    """aiohttp's ValueError for a control character never escapes."""
    with pytest.raises(PrinterAuthError):
        await async_list_printers(session, HOST, sim.port, "key\nX-Evil: 1")


async def test_huge_error_text_is_cut(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    sim.raw_answers["listPrinter"] = json.dumps({"error": "E" * 100_000})

    with pytest.raises(PrinterResponseError) as err:
        await backend.async_poll()

    assert len(str(err.value)) < 300


def test_seen_once_logs_each_value_once_and_stays_bounded() -> None:
    """50 unknown 2 KB states: 20 kept (64 characters each), one overflow line."""
    seen = SeenOnce(max_items=20, item_length=64)
    logged = [seen.add(f"STATE_{n}_" + "x" * 2_000) for n in range(50)]
    again = [seen.add(f"STATE_{n}_" + "x" * 2_000) for n in range(50)]

    assert logged.count(True) == 21  # 20 values and the overflow line
    assert seen.overflowed
    assert not any(again)
    assert len(seen.values()) == 20
    assert all(len(value) <= 64 for value in seen.values())
    assert seen.shorten(None) == "None"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (" \n\t ", None),
        ("a\x00b\u009bc", "a b c"),
        ("part\ud800.gcode", "part .gcode"),  # JSON "\ud800": no UTF-8 holds it
        ("x" * 300, "x" * 254 + "\u2026"),
    ],
)
def test_bounded_text(value: object, expected: str | None) -> None:
    assert bounded_text(value) == expected


def test_parse_json_keeps_nan_out() -> None:
    assert parse_json(b'{"a": NaN, "b": -Infinity, "c": 1}', "answer") == {
        "a": None,
        "b": None,
        "c": 1,
    }


async def test_body_announced_too_large_is_not_read(
    sim: RepetierSimulator, backend: RepetierBackend
) -> None:
    """A Content-Length over the limit is refused before the body is read."""
    await backend.async_get_identity()
    sim.raw_answers["listPrinter"] = " " * (MAX_JSON_BODY + 1) + "[]"

    with pytest.raises(PrinterBodyTooLarge, match="bytes, more than"):
        await backend.async_poll()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), ("5", 5), (" 5 ", 5), ("job-5", "job-5"), (-1, None), (True, None)],
)
def test_a_job_id_written_as_digits_is_the_same_job(
    value: object, expected: int | str | None
) -> None:
    assert repetier_job_id(value) == expected
