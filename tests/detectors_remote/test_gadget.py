"""GadgetDetector against the Gadget simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import io
import logging
import os
from typing import Literal

import aiohttp
from PIL import Image
import pytest

from custom_components.print_sentinel.detection.detectors.gadget import (
    MAX_IMAGE_BYTES,
    PRICE_PER_CALL_USD,
    GadgetDetector,
)
from custom_components.print_sentinel.detection.verdict import (
    Detector,
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorFrameRejected,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
)
from simulators.gadget import CONTEXT_GONE, GadgetSimulator
from simulators.scene import Scene, read_scene, render_frame

from . import FakeClock, make_frame, raw_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")

API_KEY = "prod_test_secret_key_0123456789"


def _context_of(detector: GadgetDetector) -> str | None:
    """The detector's context id (a call, so type narrowing does not stick)."""
    return detector.context_id


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


async def test_context_is_created_lazily_with_levels_and_reused(
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> None:
    detector = GadgetDetector(
        session, API_KEY, sim.url, warning_level=2, pause_level=4, clock=clock
    )
    assert sim.requests == []

    frame = make_frame(10)
    await detector.async_analyze([make_frame(90), frame])
    clock.advance(40)
    await detector.async_analyze([frame])

    creates = sim.create_requests()
    assert len(creates) == 1
    assert creates[0].key_ok
    assert creates[0].body == {"WarningConfidenceLevel": 2, "PauseConfidenceLevel": 4}
    context = sim.contexts[detector.context_id or ""]
    assert (context.warning_level, context.pause_level) == (2, 4)
    processed = sim.process_requests()
    assert [req.via for req in processed] == ["primary", "primary"]
    assert {req.context_id for req in processed} == {detector.context_id}
    assert all(req.key_ok for req in processed)
    # the newest frame is the one sent, unchanged
    assert processed[0].image == frame.jpeg


async def test_verdict_maps_the_answer(
    detector: GadgetDetector, clock: FakeClock
) -> None:
    failed = await detector.async_analyze([make_frame(80, "spaghetti")])
    assert failed.failure_score == 80
    assert failed.print_quality == 3
    assert failed.kind is FailureKind.SPAGHETTI
    assert failed.detector == "gadget"
    assert failed.usage.calls == 1
    assert failed.usage.cost_usd == PRICE_PER_CALL_USD == 0.0004
    assert failed.next_check_after == 40
    assert "3/10" in failed.reason
    assert failed.latency_ms > 0

    await detector.async_start_print("next")
    clock.advance(40)
    good = await detector.async_analyze([make_frame(0)])
    assert good.failure_score == 0
    assert good.print_quality == 10
    assert good.kind is FailureKind.NONE
    assert not good.warning
    assert not good.pause


async def test_warning_then_pause_follow_the_temporal_model(
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> None:
    detector = GadgetDetector(
        session, API_KEY, sim.url, warning_level=1, pause_level=1, clock=clock
    )
    seen = []
    for _ in range(3):
        verdict = await detector.async_analyze([make_frame(90, "spaghetti")])
        seen.append((verdict.warning, verdict.pause))
        clock.advance(40)
    # warning after one bad frame (level 1), pause after three (level 1 + 2)
    assert seen == [(True, False), (True, False), (True, True)]


async def test_scripted_answers_replace_the_judgement_over_http(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    async with session.post(f"{sim.url}/_sim/script", json={"Score": 1}) as bad:
        assert bad.status == 400
    async with session.post(
        f"{sim.url}/_sim/script",
        json=[{"Score": 91, "PrintQuality": 2, "PauseSuggested": True}],
    ) as queued:
        assert (await queued.json()) == {"queued": 1}

    scripted = await detector.async_analyze([make_frame(0)])  # a clean frame
    assert (scripted.failure_score, scripted.print_quality) == (91, 2)
    assert scripted.pause
    clock.advance(40)
    judged = await detector.async_analyze([make_frame(0)])
    assert judged.failure_score == 0
    assert sim.script_left() == 0


async def test_suggestion_with_a_low_score_is_other_kind(
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> None:
    # Gadget gives no kind: a warning while the smoothed score is under 50 is "other"
    detector = GadgetDetector(session, API_KEY, sim.url, warning_level=1, clock=clock)
    sim.next_interval = 1
    for failure in (0, 0, 60):
        verdict = await detector.async_analyze([make_frame(failure)])
        clock.advance(1)
    assert verdict.warning
    assert verdict.failure_score == 20
    assert verdict.kind is FailureKind.OTHER


async def test_each_print_gets_its_own_context(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock
) -> None:
    await detector.async_analyze([make_frame()])
    first = detector.context_id
    await detector.async_start_print("print-2")
    assert _context_of(detector) is None
    clock.advance(40)
    await detector.async_analyze([make_frame()])

    assert len(sim.create_requests()) == 2
    assert detector.context_id not in (None, first)
    assert [req.context_id for req in sim.process_requests()] == [
        first,
        detector.context_id,
    ]


async def test_no_call_sooner_than_next_process_interval(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock
) -> None:
    verdict = await detector.async_analyze([make_frame()])
    assert verdict.next_check_after == 40

    clock.advance(10)
    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == pytest.approx(30)
    assert len(sim.process_requests()) == 1

    sim.next_interval = 7
    clock.advance(30)
    verdict = await detector.async_analyze([make_frame()])
    assert verdict.next_check_after == 7
    clock.advance(6.5)
    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == pytest.approx(0.5)
    clock.advance(0.5)
    await detector.async_analyze([make_frame()])
    # the simulator enforces the interval too: nothing was rate limited there
    assert [req.status for req in sim.process_requests()] == [200, 200, 200]


@pytest.mark.parametrize("mode", ["refused", "error", "hang"])
async def test_primary_failure_switches_to_fallback_for_the_context(
    session: aiohttp.ClientSession,
    sim: GadgetSimulator,
    clock: FakeClock,
    mode: str,
) -> None:
    detector = GadgetDetector(session, API_KEY, sim.url, clock=clock, timeout=2)
    await sim.set_primary(mode)
    with pytest.raises(DetectorUnavailable) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == 20
    assert detector.using_fallback
    context = detector.context_id

    # wait between attempts, on the same context
    clock.advance(5)
    with pytest.raises(DetectorRateLimited):
        await detector.async_analyze([make_frame()])
    clock.advance(15)
    await detector.async_analyze([make_frame()])

    await sim.set_primary("up")
    clock.advance(40)
    await detector.async_analyze([make_frame()])
    assert detector.context_id == context
    assert [req.via for req in sim.process_requests() if req.status == 200] == [
        "fallback",
        "fallback",
    ]

    # a new print starts on the primary URL again
    await detector.async_start_print("next")
    clock.advance(40)
    await detector.async_analyze([make_frame()])
    assert sim.process_requests()[-1].via == "primary"
    assert not detector.using_fallback


async def test_client_errors_do_not_switch_to_fallback(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock
) -> None:
    sim.fail_next("OE_CONTEXT_RATE_LIMITED")
    with pytest.raises(DetectorRateLimited):
        await detector.async_analyze([make_frame()])
    sim.fail_next("OE_IMAGE_DECODE_FAILED")
    clock.advance(20)
    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([make_frame()])
    assert not detector.using_fallback
    await detector.async_analyze([make_frame()])
    assert sim.process_requests()[-1].via == "primary"


async def test_expired_context_is_recreated(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock
) -> None:
    await detector.async_analyze([make_frame()])
    old = detector.context_id
    sim.expire_contexts()
    clock.advance(40)

    with pytest.raises(DetectorUnavailable) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == 40
    assert sim.process_requests()[-1].answer["ErrorDetails"] == CONTEXT_GONE
    assert _context_of(detector) is None
    assert not detector.using_fallback

    clock.advance(40)
    verdict = await detector.async_analyze([make_frame()])
    assert verdict.failure_score == 0
    assert detector.context_id not in (None, old)
    assert len(sim.create_requests()) == 2
    assert sim.process_requests()[-1].via == "primary"


@pytest.mark.parametrize(
    "error_type",
    [
        "OE_INVALID_API_KEY",
        "OE_API_KEY_DISABLED",
        "OE_API_KEY_BLOCKED_PAYMENT_FAILED",
        "OE_API_KEY_IP_RESTRICTED",
        "OE_FREE_USAGE_LIMIT_REACHED",
    ],
)
@pytest.mark.parametrize("endpoint", ["createcontext", "process"])
async def test_key_errors_stop_with_their_type(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    error_type: str,
    endpoint: Literal["createcontext", "process"],
) -> None:
    sim.fail_next(error_type, endpoint=endpoint)
    with pytest.raises(DetectorAuthError) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.error_type == error_type.lower()
    assert not detector.using_fallback


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("OE_CONTEXT_RATE_LIMITED", DetectorRateLimited),
        ("OE_BACKEND_THROTTLED", DetectorRateLimited),
        ("OE_INTERNAL_ERROR", DetectorUnavailable),
    ],
)
async def test_temporary_errors_retry_after_the_interval(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    clock: FakeClock,
    error_type: str,
    expected: type[DetectorError],
) -> None:
    await detector.async_analyze([make_frame()])
    clock.advance(40)
    sim.fail_next(error_type)
    with pytest.raises(expected) as err:
        await detector.async_analyze([make_frame()])
    assert type(err.value) is expected
    assert err.value.retry_after == 40
    # the wait is kept locally: no request before it has passed
    calls = len(sim.requests)
    clock.advance(39)
    with pytest.raises(DetectorRateLimited):
        await detector.async_analyze([make_frame()])
    assert len(sim.requests) == calls
    clock.advance(1)
    await detector.async_analyze([make_frame()])
    # a generic internal error (HTTP 500) is a server failure: fallback from now on
    via = sim.process_requests()[-1].via
    assert via == ("fallback" if error_type == "OE_INTERNAL_ERROR" else "primary")


async def test_rate_limit_honours_a_longer_retry_after(
    detector: GadgetDetector, sim: GadgetSimulator, clock: FakeClock
) -> None:
    sim.retry_after = 90
    sim.fail_next("OE_CONTEXT_RATE_LIMITED")
    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == 90
    clock.advance(89)
    with pytest.raises(DetectorRateLimited):
        await detector.async_analyze([make_frame()])
    clock.advance(1)
    await detector.async_analyze([make_frame()])


async def test_create_context_unreachable_is_unavailable(
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> None:
    url = sim.url
    await sim.stop()
    detector = GadgetDetector(session, API_KEY, url, clock=clock)
    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([make_frame()])
    assert detector.context_id is None


async def test_undecodable_frame_is_skipped(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([raw_frame(b"\xff\xd8 not really a jpeg")])
    assert sim.process_requests()[-1].error_type == "OE_IMAGE_DECODE_FAILED"
    # no wait imposed: the next frame goes straight through
    verdict = await detector.async_analyze([make_frame(30)])
    assert verdict.failure_score == 30


async def test_bad_args_are_logged_once_without_the_key(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim.fail_next("OE_BAD_ARGS", details=f"header X-API-Key={API_KEY} rejected")
    sim.fail_next("OE_ARGS_PARSE_FAILED")
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):
            with pytest.raises(DetectorBadResponse) as err:
                await detector.async_analyze([make_frame()])
            assert API_KEY not in str(err.value)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "OE_BAD_ARGS" in warnings[0].getMessage()
    assert "rejected" in warnings[0].getMessage()
    assert API_KEY not in caplog.text


def _huge_frame(failure: int) -> bytes:
    """A frame over 6 MiB: a noisy scene still carrying its calibration squares."""
    width, height = 3200, 2400
    scene = Image.open(
        io.BytesIO(render_frame(Scene(failure, "spaghetti"), width, height))
    )
    noise = Image.frombytes(
        "RGB", (width, height // 2), os.urandom(width * height // 2 * 3)
    )
    scene.paste(noise, (0, height // 2))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=100)
    return out.getvalue()


async def test_oversized_frame_is_reencoded_below_the_limit(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    jpeg = _huge_frame(80)
    assert len(jpeg) > MAX_IMAGE_BYTES

    verdict = await detector.async_analyze([raw_frame(jpeg, 3200, 2400)])

    sent = sim.process_requests()[-1].image
    assert sent is not None
    assert len(sent) <= MAX_IMAGE_BYTES
    assert read_scene(sent).failure == pytest.approx(80, abs=2)
    assert verdict.failure_score == pytest.approx(80, abs=2)


async def test_oversized_garbage_is_rejected_locally(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([raw_frame(b"\0" * (MAX_IMAGE_BYTES + 1))])
    assert sim.requests == []


async def test_no_frame_is_rejected(detector: GadgetDetector) -> None:
    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([])


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"NextProcessIntervalSec": 20, "PrintQuality": 8, "WarningSuggested": false,'
        ' "PauseSuggested": false}',
        '{"NextProcessIntervalSec": 20, "PrintQuality": 11, "WarningSuggested": false,'
        ' "PauseSuggested": false, "Score": 5}',
        '{"NextProcessIntervalSec": 20, "PrintQuality": 8, "WarningSuggested": "no",'
        ' "PauseSuggested": false, "Score": 5}',
        '{"NextProcessIntervalSec": -1, "PrintQuality": 8, "WarningSuggested": false,'
        ' "PauseSuggested": false, "Score": 5}',
        '{"NextProcessIntervalSec": 20, "PrintQuality": 8, "WarningSuggested": false,'
        ' "PauseSuggested": false, "Score": 101}',
    ],
)
async def test_malformed_answer_is_bad_response(
    detector: GadgetDetector, sim: GadgetSimulator, body: str
) -> None:
    sim.malformed = body
    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])
    assert not detector.using_fallback


async def test_slow_answer_within_timeout_is_fine(
    detector: GadgetDetector, sim: GadgetSimulator
) -> None:
    sim.delay = 0.2
    verdict = await detector.async_analyze([make_frame(20)])
    assert verdict.failure_score == 20
    assert verdict.latency_ms >= 200


async def test_validate_creates_a_context_and_checks_the_key(
    session: aiohttp.ClientSession, sim: GadgetSimulator, clock: FakeClock
) -> None:
    await GadgetDetector(session, API_KEY, sim.url, clock=clock).async_validate()
    assert [req.status for req in sim.create_requests()] == [200]

    wrong = GadgetDetector(session, "prod_wrong", sim.url, clock=clock)
    with pytest.raises(DetectorAuthError) as err:
        await wrong.async_validate()
    assert err.value.error_type == "oe_invalid_api_key"


def test_is_a_detector(session: aiohttp.ClientSession) -> None:
    detector: Detector = GadgetDetector(session, API_KEY)
    assert (detector.name, detector.max_frames) == ("gadget", 1)


def test_levels_are_checked(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="warning level"):
        GadgetDetector(session, API_KEY, warning_level=0)
    with pytest.raises(ValueError, match="pause level"):
        GadgetDetector(session, API_KEY, pause_level=6)
    with pytest.raises(ValueError, match="API key"):
        GadgetDetector(session, "")


async def test_api_key_never_in_logs_or_errors(
    session: aiohttp.ClientSession,
    sim: GadgetSimulator,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector = GadgetDetector(session, API_KEY, sim.url, clock=clock, timeout=2)
    errors: list[BaseException] = []

    async def attempt() -> None:
        clock.advance(60)
        try:
            await detector.async_analyze([make_frame(50)])
        except DetectorError as err:
            errors.append(err)

    with caplog.at_level(logging.DEBUG):
        await attempt()
        for error_type in (
            "OE_BAD_ARGS",
            "OE_INTERNAL_ERROR",
            "OE_CONTEXT_RATE_LIMITED",
            "OE_IMAGE_DECODE_FAILED",
            "OE_API_KEY_DISABLED",
        ):
            sim.fail_next(error_type, details=f"key {API_KEY}")
            await attempt()
        sim.expire_contexts()
        await attempt()
        await attempt()
        await detector.async_start_print("p")
        await sim.set_primary("hang")
        await attempt()
        await sim.set_primary("refused")
        await detector.async_start_print("q")
        await attempt()
        sim.malformed = f'{{"Score": "{API_KEY}"}}'
        await attempt()

    assert len(errors) == 9
    for err in errors:
        assert API_KEY not in str(err)
        assert API_KEY not in repr(err)
        assert err.__cause__ is None or API_KEY not in str(err.__cause__)
    assert API_KEY not in caplog.text


async def test_http_control_drives_the_simulator(
    detector: GadgetDetector,
    sim: GadgetSimulator,
    session: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    async with session.post(
        f"{sim.url}/_sim/fail",
        json={"error_type": "OE_API_KEY_DISABLED", "endpoint": "createcontext"},
    ) as resp:
        assert resp.status == 200
    with pytest.raises(DetectorAuthError):
        await detector.async_analyze([make_frame()])

    async with session.post(
        f"{sim.url}/_sim/switches", json={"next_interval": 12, "primary": "error"}
    ) as resp:
        assert (await resp.json())["primary"] == "error"
    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([make_frame()])
    clock.advance(20)
    verdict = await detector.async_analyze([make_frame()])
    assert verdict.next_check_after == 12

    async with session.get(f"{sim.url}/_sim/requests") as resp:
        log = await resp.json()
    assert [(r["endpoint"], r["via"], r["status"]) for r in log] == [
        ("createcontext", "main", 403),
        ("createcontext", "main", 200),
        ("process", "primary", 502),
        ("process", "fallback", 200),
    ]
    async with session.post(f"{sim.url}/_sim/expire") as resp:
        assert (await resp.json()) == {"expired": 1}
    async with session.post(f"{sim.url}/_sim/switches", json={"bogus": 1}) as resp:
        assert resp.status == 400


async def test_simulator_is_strict(
    sim: GadgetSimulator, session: aiohttp.ClientSession
) -> None:
    create = f"{sim.url}/api/gadget/v1/createcontext"
    headers = {"X-API-Key": API_KEY}

    async with session.get(create, headers=headers) as resp:
        assert resp.status == 405
    async with session.post(create, json={}) as resp:
        assert resp.status == 401
        assert (await resp.json())["ErrorType"] == "OE_INVALID_API_KEY"
    async with session.post(
        create, json={"warningConfidenceLevel": 3}, headers=headers
    ) as resp:
        assert (await resp.json())["ErrorType"] == "OE_BAD_ARGS"
    async with session.post(
        create, json={"PauseConfidenceLevel": 9}, headers=headers
    ) as resp:
        assert (await resp.json())["ErrorType"] == "OE_BAD_ARGS"
    async with session.post(create, data=b"{", headers=headers) as resp:
        assert (await resp.json())["ErrorType"] == "OE_ARGS_PARSE_FAILED"
    async with session.post(create, json={}, headers=headers) as resp:
        context = await resp.json()
    assert context["ProcessRequestUrl"].startswith(sim.primary_url)
    assert context["FallbackProcessRequestUrl"].startswith(sim.url)
    assert context["ProcessRequestUrl"] != context["FallbackProcessRequestUrl"]
    assert sim.contexts[context["ContextId"]].warning_level == 3

    process = context["ProcessRequestUrl"]
    jpeg = make_frame().jpeg
    two = aiohttp.FormData()
    two.add_field("a", jpeg, filename="a.jpg", content_type="image/jpeg")
    two.add_field("b", jpeg, filename="b.jpg", content_type="image/jpeg")
    async with session.post(process, data=two, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["ErrorType"] == "OE_BAD_ARGS"
    async with session.post(process, data=jpeg, headers=headers) as resp:
        assert (await resp.json())["ErrorType"] == "OE_BAD_ARGS"
    big = aiohttp.FormData()
    big.add_field("image", b"\xff\xd8" + b"\0" * MAX_IMAGE_BYTES, filename="x.jpg")
    async with session.post(process, data=big, headers=headers) as resp:
        assert (await resp.json())["ErrorDetails"] == "The image exceeds 6 MiB."
    one = aiohttp.FormData()
    one.add_field("image", jpeg, filename="print.jpg", content_type="image/jpeg")
    async with session.post(process, data=one, headers=headers) as resp:
        assert resp.status == 200
        assert set(await resp.json()) == {
            "NextProcessIntervalSec",
            "PrintQuality",
            "WarningSuggested",
            "PauseSuggested",
            "Score",
        }
