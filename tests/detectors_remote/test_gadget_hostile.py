"""GadgetDetector against a hostile Gadget: every answer is checked at the edge."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
import logging
from unittest.mock import patch

import aiohttp
from aiohttp import web
from PIL import Image
import pytest

from custom_components.print_sentinel.detection.detectors.gadget import (
    MAX_INTERVAL,
    GadgetDetector,
    _shrink_jpeg,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorBadResponse,
    DetectorError,
    DetectorFrameRejected,
    DetectorPaced,
    DetectorRateLimited,
)
from simulators.gadget import GadgetSimulator

from ..detectors.test_frames_cost import _huge_png
from . import FakeClock, make_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")

API_KEY = "prod_test_secret_key_hostile_42"
DEEP = "[" * 200_000 + "]" * 200_000
DEEP_OBJECT = '{"a":' * 100 + "1" + "}" * 100


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock shared by detector and simulator."""
    return FakeClock()


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncGenerator[GadgetSimulator]:
    """A running Gadget simulator without score noise."""
    simulator = GadgetSimulator(api_key=API_KEY, noise=0, clock=clock)
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
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> GadgetDetector:
    """A detector talking to the simulator."""
    return GadgetDetector(session, API_KEY, sim.url, clock=clock, timeout=5)


class Trap:
    """Another host that records what it receives (it should receive nothing)."""

    def __init__(self) -> None:
        """Answer every request like Gadget would, to make a leak visible."""
        self.received: list[dict[str, str]] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._any)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.url = ""

    async def _any(self, request: web.Request) -> web.Response:
        self.received.append(dict(request.headers))
        await request.read()
        return web.json_response(
            {
                "NextProcessIntervalSec": 20,
                "PrintQuality": 10,
                "WarningSuggested": False,
                "PauseSuggested": False,
                "Score": 0,
            }
        )

    async def start(self, host: str) -> None:
        """Listen on `host` (a loopback address other than the simulator's)."""
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, 0)
        await site.start()
        self.url = f"http://{host}:{self.runner.addresses[0][1]}"


@pytest.fixture
async def trap() -> AsyncGenerator[Trap]:
    """A listener on 127.0.0.2 (another host, plain http)."""
    server = Trap()
    await server.start("127.0.0.2")
    yield server
    await server.runner.cleanup()


@pytest.mark.parametrize(
    "body",
    [DEEP, DEEP_OBJECT, "<html><body>502</body></html>", "[]", '["x"]', "NaN"],
    ids=["deep", "deep_object", "html", "list", "list_of_str", "nan"],
)
async def test_a_hostile_new_context_is_a_bad_response(
    detector: GadgetDetector, sim: GadgetSimulator, body: str
) -> None:
    """Nested 200,000 deep, HTML or a list: a DetectorBadResponse, no traceback."""
    sim.create_malformed = body

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])
    with pytest.raises(DetectorBadResponse):
        await detector.async_validate()

    assert detector.context_id is None


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"NextProcessIntervalSec": Infinity, "PrintQuality": 10,'
        ' "WarningSuggested": false, "PauseSuggested": false, "Score": 0}',
        '{"NextProcessIntervalSec": 20, "PrintQuality": 10,'
        ' "WarningSuggested": false, "PauseSuggested": false, "Score": NaN}',
        '{"NextProcessIntervalSec": 1e999, "PrintQuality": 10,'
        ' "WarningSuggested": false, "PauseSuggested": false, "Score": 0}',
    ],
    ids=["deep", "infinite_interval", "nan_score", "overflowing_interval"],
)
async def test_a_hostile_verdict_is_a_bad_response(
    detector: GadgetDetector, sim: GadgetSimulator, body: str
) -> None:
    sim.malformed = body

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])


async def test_a_huge_interval_is_cut_so_detection_goes_on(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`NextProcessIntervalSec` 1e9 would stop detection for the print: cut to 600 s."""
    sim.enforce_interval = False
    sim.script([{"NextProcessIntervalSec": 1e9}, {"NextProcessIntervalSec": 1e9}])

    with caplog.at_level(logging.WARNING):
        verdict = await detector.async_analyze([make_frame()])
        assert verdict.next_check_after == MAX_INTERVAL
        with pytest.raises(DetectorPaced):
            await detector.async_analyze([make_frame()])
        clock.advance(MAX_INTERVAL)
        again = await detector.async_analyze([make_frame()])

    assert again.next_check_after == MAX_INTERVAL
    warnings = [r for r in caplog.records if "asked to wait" in r.getMessage()]
    assert len(warnings) == 1  # logged once


@pytest.mark.parametrize("retry_after", [1e9, float("inf")])
async def test_a_huge_retry_after_is_cut(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock, retry_after: float
) -> None:
    """A Retry-After of "inf" or 1e9 seconds would hold every call for good."""
    sim.retry_after = retry_after
    sim.fail_next("OE_CONTEXT_RATE_LIMITED")

    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])

    assert err.value.retry_after is not None
    assert err.value.retry_after <= MAX_INTERVAL
    clock.advance(MAX_INTERVAL)
    assert (await detector.async_analyze([make_frame()])).failure_score == 0


async def test_a_huge_answer_is_not_read(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    """A body beyond 1 MiB is refused without reading it in full."""
    sim.malformed = " " * (3 * 1024 * 1024) + "{}"

    with pytest.raises(DetectorBadResponse, match="too large"):
        await detector.async_analyze([make_frame()])


@pytest.mark.parametrize("which", ["process_url_base", "fallback_url_base"])
async def test_the_key_never_goes_to_another_host_over_http(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    trap: Trap,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    which: str,
) -> None:
    """A process URL on another host over plain http gets neither key nor frame:
    the configured host gets the call instead, and a warning says so once."""
    setattr(sim, which, trap.url)
    if which == "fallback_url_base":
        await sim.set_primary("error")  # so the fallback URL is used

    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            if which == "process_url_base":
                await detector.async_start_print("p")  # a new context each time
            with contextlib.suppress(DetectorError):  # the primary fails
                await detector.async_analyze([make_frame()])
            clock.advance(MAX_INTERVAL)

    assert trap.received == []
    process_calls = [r for r in sim.requests if r.endpoint == "process"]
    assert process_calls[-1].key_ok
    assert process_calls[-1].status == 200
    warnings = [r for r in caplog.records if "another host" in r.getMessage()]
    assert len(warnings) == 1
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://gadget-pv1-oeapi.octoeverywhere.com/api/gadget/v1/process", True),
        ("https://octoeverywhere.com/x", True),
        ("http://gadget-pv1-oeapi.octoeverywhere.com/x", False),
        ("https://octoeverywhere.com.evil.example/x", False),
        ("https://evilocteverywhere.com/x", False),
        ("https://user:pw@octoeverywhere.com/x", False),
        ("http://127.0.0.1:1/x", True),
        ("https://127.0.0.1:1/x", False),
        ("http://127.0.0.2/x", False),
        ("/relative", False),
        ("http://[::1", False),
    ],
)
def test_which_process_urls_may_get_the_key(
    session: aiohttp.ClientSession, url: str, trusted: bool
) -> None:
    detector = GadgetDetector(session, API_KEY, "http://127.0.0.1:9")

    chosen = detector._trusted_url(url)

    assert (chosen == url) is trusted
    if not trusted:
        assert chosen.startswith("http://127.0.0.1:9/")


async def test_a_redirect_is_not_followed_with_the_key(
    session: aiohttp.ClientSession, trap: Trap
) -> None:
    """A 307 to another host would resend the key and the frame: not followed."""
    app = web.Application()

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{trap.url}{request.path}")

    app.router.add_route("*", "/{tail:.*}", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        detector = GadgetDetector(
            session, API_KEY, f"http://127.0.0.1:{runner.addresses[0][1]}"
        )
        with pytest.raises(DetectorBadResponse, match="HTTP 307"):
            await detector.async_validate()
    finally:
        await runner.cleanup()

    assert trap.received == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_oversized_frame_too_large_to_decode_is_refused() -> None:
    """Shrinking a frame beyond 8K would decode it in full: refused from its header."""
    png = _huge_png(12000, 12000)

    with (
        patch.object(Image.Image, "load", side_effect=AssertionError("decoded")),
        pytest.raises(DetectorFrameRejected, match="8K"),
    ):
        _shrink_jpeg(png, 1024)


async def test_a_huge_new_context_is_not_read(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    sim.create_malformed = " " * (3 * 1024 * 1024) + "{}"

    with pytest.raises(DetectorBadResponse, match="too large"):
        await detector.async_validate()
