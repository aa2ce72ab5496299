"""PrintWatchDetector against a hostile PrintWatch: every answer is checked."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging

import aiohttp
from aiohttp import web
import pytest

from custom_components.print_sentinel.detection.detectors.printwatch import (
    MAX_INTERVAL,
    PrintWatchDetector,
)
from custom_components.print_sentinel.detection.verdict import DetectorBadResponse
from simulators.printwatch import PrintWatchSimulator

from . import FakeClock, make_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")

API_KEY = "sub_test_secret_key_hostile_1234"
DEEP = "[" * 200_000 + "]" * 200_000


@pytest.fixture
async def sim() -> AsyncGenerator[PrintWatchSimulator]:
    """A running PrintWatch simulator without score noise."""
    simulator = PrintWatchSimulator(api_key=API_KEY, noise=0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain client session (Home Assistant passes its shared one)."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def detector(
    session: aiohttp.ClientSession, sim: PrintWatchSimulator
) -> PrintWatchDetector:
    """A detector talking to the simulator."""
    return PrintWatchDetector(
        session, API_KEY, sim.url, printer_id="p", clock=FakeClock(), timeout=5
    )


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"statusCode": 200, "defect_detected": false, "boxes": ' + DEEP + "}",
        "<html><body>502</body></html>",
        "[]",
        '{"statusCode": 200, "score": NaN}',
        '{"statusCode": 200, "score": 1e999}',
        # a good answer, but after 3 MiB: not read in full
        " " * (3 * 1024 * 1024) + '{"statusCode": 200, "score": 0.1}',
    ],
    ids=["deep", "deep_boxes", "html", "list", "nan", "overflow", "huge"],
)
async def test_a_hostile_answer_is_a_bad_response(
    detector: PrintWatchDetector, sim: PrintWatchSimulator, body: str
) -> None:
    """No RecursionError, no traceback: a DetectorBadResponse."""
    sim.malformed = body

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])


async def test_boxes_nested_deep_in_a_string_count_as_none(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    """PrintWatch may send the boxes as a string holding JSON: parsed bounded too."""
    sim.script({"boxes": "[" * 200_000 + "]" * 200_000})

    verdict = await detector.async_analyze([make_frame()])

    assert verdict.kind.value == "none"


@pytest.mark.parametrize("interval", [1e9, float("inf")])
async def test_a_huge_interval_is_cut_or_ignored(
    detector: PrintWatchDetector,
    sim: PrintWatchSimulator,
    caplog: pytest.LogCaptureFixture,
    interval: float,
) -> None:
    """An `interval` of 1e9 s is cut to 600 s; Infinity is not JSON: no verdict."""
    sim.interval = interval

    with caplog.at_level(logging.WARNING):
        if interval == float("inf"):
            with pytest.raises(DetectorBadResponse):
                await detector.async_analyze([make_frame()])
            return
        verdicts = [await detector.async_analyze([make_frame()]) for _ in range(2)]

    assert [v.next_check_after for v in verdicts] == [MAX_INTERVAL, MAX_INTERVAL]
    assert caplog.text.count("asked to wait") == 1


async def test_a_redirect_does_not_resend_the_key(
    session: aiohttp.ClientSession, sim: PrintWatchSimulator
) -> None:
    """The key is in the body: a 307 elsewhere is not followed."""
    app = web.Application()

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{sim.url}{request.path}")

    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        detector = PrintWatchDetector(
            session,
            API_KEY,
            f"http://127.0.0.1:{runner.addresses[0][1]}",
            printer_id="p",
        )
        with pytest.raises(DetectorBadResponse, match="307"):
            await detector.async_analyze([make_frame()])
    finally:
        await runner.cleanup()

    assert sim.requests == []
