"""PrintWatchDetector against the PrintWatch simulator."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
import json
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.print_sentinel.detection.detectors.printwatch import (
    DEFECT_SCORE,
    PrintWatchDetector,
)
from custom_components.print_sentinel.detection.verdict import (
    Detector,
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
)
from custom_components.print_sentinel.printers.base import (
    JobSnapshot,
    PrinterSnapshot,
    PrinterState,
)
from simulators.printwatch import PrintWatchSimulator

from . import FakeClock, make_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")

API_KEY = "sub_test_secret_key_9876543210"
PRINTER_ID = "printer-abc"
GUIDE_BOXES = "[[0.1262, 0.1627, 0.2892, 0.3740], [0.8562, 0.9011, 0.9999, 0.9975]]"
"""The boxes of the answer in PrintWatch's API guide: a string holding a JSON list."""


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock for the detector."""
    return FakeClock()


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


def _detector(
    session: aiohttp.ClientSession,
    sim: PrintWatchSimulator,
    clock: FakeClock,
    *,
    api_key: str = API_KEY,
    **kwargs: Any,
) -> PrintWatchDetector:
    return PrintWatchDetector(
        session, api_key, sim.url, printer_id=PRINTER_ID, clock=clock, **kwargs
    )


@pytest.fixture
def detector(
    session: aiohttp.ClientSession, sim: PrintWatchSimulator, clock: FakeClock
) -> PrintWatchDetector:
    """A detector with a two-frame buffer talking to the simulator."""
    return _detector(session, sim, clock, buffer_size=2, timeout=2)


async def test_request_carries_what_printwatch_clients_send(
    session: aiohttp.ClientSession, sim: PrintWatchSimulator, clock: FakeClock
) -> None:
    detector = _detector(
        session,
        sim,
        clock,
        buffer_size=8,
        confidence=0.5,
        buffer_percent=70,
        notify_threshold=0.25,
        action_threshold=0.75,
    )
    frame = make_frame(40)
    await detector.async_analyze([make_frame(90), frame])

    request = sim.requests[0]
    assert request.key_ok
    assert request.status == 200
    assert request.image == frame.jpeg
    payload = request.payload
    assert payload is not None
    assert "api_key" not in payload  # the simulator does not keep it
    assert payload["printer_id"] == PRINTER_ID
    assert payload["ticket_id"] == detector.ticket_id
    assert payload["state"] == 0
    assert payload["conf"] == 0.5
    assert payload["buffer_length"] == 8
    assert payload["buffer_percent"] == 70
    assert payload["thresholds"] == [0.25, 0.75]
    assert payload["scores"] == []
    assert payload["enable_feedback_images"] is False
    # without a view of the printer: printing, and no job details
    assert (payload["printTime"], payload["printTimeLeft"]) == (0, 0)
    assert (payload["progress"], payload["job_name"]) == (0.0, "")


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        (
            PrinterSnapshot(
                state=PrinterState.PRINTING,
                job=JobSnapshot(
                    id=7,
                    name="benchy.gcode",
                    path="/usb/BENCHY~1.GCO",
                    progress=42.5,
                    time_printing=1200,
                    time_remaining=1800,
                ),
            ),
            (0, 1200, 1800, 42.5, "benchy.gcode"),
        ),
        (
            PrinterSnapshot(
                state=PrinterState.PAUSED,
                job=JobSnapshot(id=7, path="/usb/vase.gcode", progress=90),
            ),
            (1, 0, 0, 90.0, "vase.gcode"),
        ),
        (PrinterSnapshot(state=PrinterState.IDLE), (2, 0, 0, 0.0, "")),
        (PrinterSnapshot(state=PrinterState.FINISHED), (2, 0, 0, 0.0, "")),
        (PrinterSnapshot(state=PrinterState.ERROR), (500, 0, 0, 0.0, "")),
    ],
)
async def test_request_carries_the_printers_state_and_job(
    session: aiohttp.ClientSession,
    sim: PrintWatchSimulator,
    clock: FakeClock,
    snapshot: PrinterSnapshot,
    expected: tuple[int, int, int, float, str],
) -> None:
    snapshots: list[PrinterSnapshot | None] = [None, snapshot]
    detector = _detector(session, sim, clock, printer_info=lambda: snapshots[-1])
    await detector.async_analyze([make_frame(20)])

    payload = sim.requests[0].payload
    assert payload is not None
    assert sim.requests[0].status == 200  # the simulator accepts the types sent
    fields = ("state", "printTime", "printTimeLeft", "progress", "job_name")
    assert tuple(payload[key] for key in fields) == expected

    # read at each call: no printer data yet is "printing, nothing known"
    snapshots.pop()
    clock.advance(60)
    await detector.async_analyze([make_frame(20)])
    payload = sim.requests[1].payload
    assert payload is not None
    assert tuple(payload[key] for key in fields) == (0, 0, 0, 0.0, "")


async def test_scores_are_sent_back_and_levels_mapped(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    first = await detector.async_analyze([make_frame(80, "spaghetti")])
    # the buffer (two frames) is not full yet: no level reached
    assert first.failure_score == 80
    assert (first.warning, first.pause) == (False, False)
    assert first.kind is FailureKind.OTHER
    assert first.print_quality is None
    assert first.detector == "printwatch"
    assert first.usage.calls == 1
    assert "defect detected" in first.reason

    second = await detector.async_analyze([make_frame(80, "spaghetti")])
    assert (second.warning, second.pause) == (True, True)
    payload = sim.requests[1].payload
    assert payload is not None
    assert payload["scores"] == [0.8]
    assert payload["sma_spaghetti"] == 0.8


async def test_notify_level_without_action_level(
    detector: PrintWatchDetector,
) -> None:
    # mean 0.45: above notify (0.30), below action (0.60)
    await detector.async_analyze([make_frame(45)])
    verdict = await detector.async_analyze([make_frame(45)])
    assert (verdict.warning, verdict.pause) == (True, False)
    assert verdict.kind is FailureKind.NONE  # under conf 0.60: no box


async def test_clean_frame_is_no_failure(detector: PrintWatchDetector) -> None:
    verdict = await detector.async_analyze([make_frame(5)])
    assert verdict.failure_score == 5
    assert verdict.kind is FailureKind.NONE
    assert not verdict.warning
    assert not verdict.pause
    assert verdict.next_check_after is None
    assert "no defect" in verdict.reason


async def test_each_print_gets_a_new_ticket_and_fresh_scores(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    await detector.async_analyze([make_frame(80)])
    first = detector.ticket_id
    await detector.async_start_print("next")
    assert detector.ticket_id != first
    await detector.async_analyze([make_frame(80)])
    payloads = [r.payload or {} for r in sim.requests]
    assert [p["ticket_id"] for p in payloads] == [first, detector.ticket_id]
    assert payloads[1]["scores"] == []


@pytest.mark.parametrize("where", ["http", "body"])
async def test_213_backs_off_300_seconds(
    detector: PrintWatchDetector,
    sim: PrintWatchSimulator,
    clock: FakeClock,
    where: str,
) -> None:
    if where == "http":
        sim.back_off_next()
    else:
        sim.script({"statusCode": 213})
    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == 300

    clock.advance(100)
    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == pytest.approx(200)
    assert len(sim.requests) == 1

    clock.advance(200)
    await detector.async_analyze([make_frame()])
    assert len(sim.requests) == 2


@pytest.mark.parametrize("status", [401, 403, 200])
async def test_invalid_key_is_auth_error(
    session: aiohttp.ClientSession,
    sim: PrintWatchSimulator,
    clock: FakeClock,
    status: int,
) -> None:
    sim.reject_key_with = status
    detector = _detector(session, sim, clock, api_key="sub_wrong")
    with pytest.raises(DetectorAuthError) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.error_type == "invalid_api_key"
    assert sim.requests[0].status == status
    assert not sim.requests[0].key_ok


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_unavailable_with_growing_backoff(
    detector: PrintWatchDetector, sim: PrintWatchSimulator, status: int
) -> None:
    sim.fail_next(status, count=2)
    waits = []
    for _ in range(2):
        with pytest.raises(DetectorUnavailable) as err:
            await detector.async_analyze([make_frame()])
        waits.append(err.value.retry_after)
    assert waits == [15, 20]
    await detector.async_analyze([make_frame()])
    # a success resets the back-off
    sim.fail_next(status)
    with pytest.raises(DetectorUnavailable) as err:
        await detector.async_analyze([make_frame()])
    assert err.value.retry_after == 15


async def test_hang_times_out_as_unavailable(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    sim.set_hang(True)
    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([make_frame()])
    sim.set_hang(False)


async def test_unreachable_is_unavailable(
    session: aiohttp.ClientSession, sim: PrintWatchSimulator, clock: FakeClock
) -> None:
    detector = _detector(session, sim, clock)
    await sim.stop()
    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([make_frame()])


@pytest.mark.parametrize(
    "override",
    [
        {"score": 7},
        {"score": -0.1},
        {"score": "0.5"},
        {"score": True},
        {"defect_detected": "maybe"},
        {"defect_detected": 1},
        {"score": None, "defect_detected": None},
        {"levels": "yes"},
        {"levels": [1, 0]},
        {"statusCode": 404, "detail": "Not found"},
    ],
)
async def test_malformed_answer_is_bad_response(
    detector: PrintWatchDetector, sim: PrintWatchSimulator, override: dict[str, Any]
) -> None:
    sim.script(override)
    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])


@pytest.mark.parametrize(
    "body",
    [
        "<html>oops</html>",
        "[]",
        "{}",
        # boxes alone are no verdict: neither defect_detected nor a score
        f'{{"statusCode": 200, "boxes": "{GUIDE_BOXES}"}}',
        '{"statusCode": 200, "boxes": [[1, 2, 3, 4]], "levels": [true, true]}',
    ],
)
async def test_non_result_body_is_bad_response(
    detector: PrintWatchDetector, sim: PrintWatchSimulator, body: str
) -> None:
    sim.malformed = body
    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([make_frame()])


@pytest.mark.parametrize(
    ("levels", "defect", "expected"),
    [
        ([True, False], "False", (True, False)),
        ([False, True], "False", (False, True)),
        ([True, True, False], "True", (True, True)),
        ([False, False], "True", (False, False)),
        (None, "True", (True, False)),
        (None, "False", (False, False)),
    ],
)
async def test_levels_map_to_warning_and_pause(
    detector: PrintWatchDetector,
    sim: PrintWatchSimulator,
    levels: list[bool] | None,
    defect: str,
    expected: tuple[bool, bool],
) -> None:
    sim.script({"levels": levels, "defect_detected": defect, "boxes": []})
    verdict = await detector.async_analyze([make_frame(50)])
    assert (verdict.warning, verdict.pause) == expected
    assert verdict.kind is FailureKind.NONE


async def test_answer_of_the_api_guide_is_a_clear_positive(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    # verbatim the answer PrintWatch's API guide shows: no score, boxes as a string
    sim.malformed = (
        f'{{"statusCode": 200, "defect_detected": true, "boxes": "{GUIDE_BOXES}"}}'
    )
    verdict = await detector.async_analyze([make_frame(10)])
    assert verdict.failure_score == DEFECT_SCORE == 80
    assert verdict.kind is FailureKind.OTHER
    assert (verdict.warning, verdict.pause) == (True, False)
    assert "no score" in verdict.reason
    assert "2 region(s) flagged" in verdict.reason


@pytest.mark.parametrize(
    ("failure", "score", "kind", "warning"),
    [
        (80, DEFECT_SCORE, FailureKind.OTHER, True),
        (65, DEFECT_SCORE, FailureKind.OTHER, True),  # a fixed value, not the model's
        (5, 0.0, FailureKind.NONE, False),
    ],
)
async def test_guide_shaped_answers_give_verdicts(
    session: aiohttp.ClientSession,
    clock: FakeClock,
    failure: int,
    score: float,
    kind: FailureKind,
    warning: bool,
) -> None:
    sim = PrintWatchSimulator(api_key=API_KEY, noise=0, legacy_shape=True)
    await sim.start()
    try:
        detector = _detector(session, sim, clock, buffer_size=2)
        verdicts = [
            await detector.async_analyze([make_frame(failure)]) for _ in range(2)
        ]
    finally:
        await sim.stop()

    answer = sim.requests[0].answer
    assert set(answer) == {"statusCode", "defect_detected", "boxes"}
    assert isinstance(answer["boxes"], str)
    assert isinstance(answer["defect_detected"], bool)
    for verdict in verdicts:
        assert verdict.failure_score == score
        assert verdict.kind is kind
        assert (verdict.warning, verdict.pause) == (warning, False)
        assert verdict.detector == "printwatch"
    # only scores PrintWatch gave are sent back, none were given
    second = sim.requests[1].payload
    assert second is not None
    assert second["scores"] == []
    assert second["sma_spaghetti"] == 0.0


async def test_guide_shape_through_the_switch_endpoint(
    detector: PrintWatchDetector,
    sim: PrintWatchSimulator,
    session: aiohttp.ClientSession,
) -> None:
    async with session.post(
        f"{sim.url}/_sim/switches", json={"legacy_shape": True}
    ) as resp:
        assert (await resp.json())["legacy_shape"] is True
    verdict = await detector.async_analyze([make_frame(90, "spaghetti")])
    assert verdict.failure_score == DEFECT_SCORE
    assert verdict.kind is FailureKind.OTHER
    assert "1 region(s) flagged" in verdict.reason
    boxes = sim.requests[0].answer["boxes"]
    assert isinstance(boxes, str)
    # [cx, cy, w, h] of 640 px as the guide's [x1, y1, x2, y2] in 0-1
    assert json.loads(boxes) == [[0.3125, 0.3531, 0.6875, 0.5844]]
    sim.reset()
    assert sim.legacy_shape is False


@pytest.mark.parametrize(
    "boxes", ["[[0.1, 0.2,", "", "nonsense", '{"a": 1}', '[["a"]]', [["a"]], 5]
)
async def test_unreadable_boxes_count_as_none(
    session: aiohttp.ClientSession,
    clock: FakeClock,
    boxes: object,
) -> None:
    sim = PrintWatchSimulator(api_key=API_KEY, noise=0, legacy_shape=True)
    await sim.start()
    try:
        detector = _detector(session, sim, clock)
        sim.script({"boxes": boxes})
        verdict = await detector.async_analyze([make_frame(80)])
        assert verdict.failure_score == DEFECT_SCORE  # defect_detected still counts
        assert verdict.kind is FailureKind.NONE
        assert "region" not in verdict.reason

        # nothing usable at all (no defect_detected, no score) is an error
        clock.advance(60)
        sim.script({"boxes": boxes, "defect_detected": None})
        with pytest.raises(DetectorBadResponse):
            await detector.async_analyze([make_frame(80)])
    finally:
        await sim.stop()


async def test_boxes_as_a_json_string_are_counted(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    sim.script({"boxes": GUIDE_BOXES})
    verdict = await detector.async_analyze([make_frame(80)])
    assert verdict.failure_score == 80  # the score is used when there is one
    assert verdict.kind is FailureKind.OTHER
    assert "2 region(s) flagged" in verdict.reason


@pytest.mark.parametrize(
    ("failure", "defect"), [(80, True), (60, True), (30, False), (0, False)]
)
async def test_score_without_defect_detected_uses_the_confidence(
    detector: PrintWatchDetector,
    sim: PrintWatchSimulator,
    failure: int,
    defect: bool,
) -> None:
    sim.script({"defect_detected": None, "levels": None, "boxes": []})
    verdict = await detector.async_analyze([make_frame(failure)])
    assert verdict.failure_score == failure
    assert verdict.warning is defect  # no levels: the defect warns
    assert ("defect detected" in verdict.reason) is defect


async def test_missing_score_with_no_defect_is_zero(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    sim.script({"score": None, "defect_detected": "False", "boxes": "[]"})
    verdict = await detector.async_analyze([make_frame(80)])
    assert verdict.failure_score == 0
    assert verdict.kind is FailureKind.NONE
    assert (verdict.warning, verdict.pause) == (False, False)


async def test_interval_is_reported(
    detector: PrintWatchDetector, sim: PrintWatchSimulator
) -> None:
    sim.interval = 30
    verdict = await detector.async_analyze([make_frame()])
    assert verdict.next_check_after == 30


async def test_api_key_never_in_logs_or_errors(
    session: aiohttp.ClientSession,
    sim: PrintWatchSimulator,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector = _detector(session, sim, clock, timeout=2)
    errors: list[DetectorError] = []

    async def attempt(target: PrintWatchDetector = detector) -> None:
        clock.advance(400)
        try:
            await target.async_analyze([make_frame(70)])
        except DetectorError as err:
            errors.append(err)

    with caplog.at_level(logging.DEBUG):
        await attempt()
        sim.back_off_next()
        await attempt()
        sim.fail_next(500)
        await attempt()
        sim.script({"statusCode": 400, "detail": f"bad request for {API_KEY}"})
        await attempt()
        sim.malformed = f'{{"score": "{API_KEY}"}}'
        await attempt()
        sim.malformed = None
        sim.set_hang(True)
        await attempt()
        sim.set_hang(False)
        sim.reject_key_with = 200
        await attempt(_detector(session, sim, clock, api_key=f"{API_KEY}x"))

    assert len(errors) == 6
    for err in errors:
        assert API_KEY not in str(err)
        assert API_KEY not in repr(err)
        assert err.__cause__ is None or API_KEY not in str(err.__cause__)
    assert API_KEY not in caplog.text


def test_is_a_detector(session: aiohttp.ClientSession) -> None:
    detector: Detector = PrintWatchDetector(session, API_KEY, printer_id=PRINTER_ID)
    assert (detector.name, detector.max_frames) == ("printwatch", 1)


def test_settings_are_checked(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="API key"):
        PrintWatchDetector(session, "", printer_id=PRINTER_ID)
    with pytest.raises(ValueError, match="printer id"):
        PrintWatchDetector(session, API_KEY, printer_id="")
    with pytest.raises(ValueError, match="confidence"):
        PrintWatchDetector(session, API_KEY, printer_id=PRINTER_ID, confidence=60)
    with pytest.raises(ValueError, match="buffer size"):
        PrintWatchDetector(session, API_KEY, printer_id=PRINTER_ID, buffer_size=0)


async def test_simulator_is_strict(
    sim: PrintWatchSimulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/api/v2/infer"
    image = base64.b64encode(make_frame(30).jpeg).decode()
    good = {
        "api_key": API_KEY,
        "printer_id": PRINTER_ID,
        "ticket_id": "t1",
        "state": 0,
        "image_array": image,
        "conf": 0.6,
        "buffer_length": 16,
        "buffer_percent": 60,
        "thresholds": [0.3, 0.6],
        "scores": [],
    }
    async with session.get(url) as resp:
        assert resp.status == 405
    async with session.post(url, data=b"x") as resp:
        assert resp.status == 422
    missing = {k: v for k, v in good.items() if k != "ticket_id"}
    async with session.post(url, json=missing) as resp:
        assert resp.status == 422
        assert (await resp.json())["detail"][0]["loc"] == ["body", "ticket_id"]
    async with session.post(url, json={**good, "thresholds": [0.3]}) as resp:
        assert resp.status == 422
    for bad in ({"progress": 150}, {"progress": None}, {"job_name": 5}):
        async with session.post(url, json={**good, **bad}) as resp:
            assert resp.status == 422
    async with session.post(url, json={**good, "image_array": "!!"}) as resp:
        assert resp.status == 400
    async with session.post(url, json=good) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["statusCode"] == 200
    assert answer["score"] == 0.3
    assert answer["defect_detected"] == "False"
    assert answer["levels"] == [False, False]
    assert answer["boxes"] == []

    async with session.post(f"{sim.url}/_sim/backoff", json={"count": 1}) as resp:
        assert resp.status == 200
    async with session.post(url, json=good) as resp:
        assert resp.status == 213
    async with session.post(
        f"{sim.url}/_sim/script", json={"results": [{"score": 0.99}]}
    ) as resp:
        assert resp.status == 200
    async with session.post(url, json=good) as resp:
        assert (await resp.json())["score"] == 0.99
    async with session.get(f"{sim.url}/_sim/requests") as resp:
        log = await resp.json()
    assert [r["status"] for r in log] == [422] * 6 + [400, 200, 213, 200]
    assert all("api_key" not in (r["payload"] or {}) for r in log)
