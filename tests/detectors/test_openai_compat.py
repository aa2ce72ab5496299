"""The real OpenAIDetector (official SDK, real httpx client) against the simulator."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import io
import json
import logging
import traceback
from typing import Any

import httpx
import openai
from PIL import Image
import pytest

from custom_components.print_sentinel.detection.cost import (
    DEFAULT_LONG_SIDE,
    request_cost,
)
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    DetectorModelNotFound,
    OpenAIDetector,
    parse_retry_after,
)
from custom_components.print_sentinel.detection.frames import prepare_frame
from custom_components.print_sentinel.detection.prompt import (
    PAUSE_SCORE,
    VERDICT_JSON_SCHEMA,
    WARNING_SCORE,
    parse_answer,
    parse_answer_text,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorFrameRejected,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
    Frame,
)
from simulators.openai_compat import OpenAISimulator, SimMode
from simulators.scene import Scene, read_scene, render_frame

API_KEY = "sk-proj-Secret0123456789abcdefXYZ"
MODEL = "gpt-4.1-nano"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_frames(*scenes: Scene, long_side: int = DEFAULT_LONG_SIDE) -> list[Frame]:
    """Render and prepare frames showing `scenes`, oldest first."""
    return [
        prepare_frame(
            render_frame(scene, 1280, 720, seed=index),
            T0 + timedelta(seconds=20 * index),
            long_side=long_side,
        )
        for index, scene in enumerate(scenes)
    ]


GOOD = make_frames(Scene(0), Scene(5), Scene(10))
SPAGHETTI = make_frames(
    Scene(60, "spaghetti"), Scene(85, "spaghetti"), Scene(95, "spaghetti")
)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """A simulator without false positives (deterministic judgements)."""
    simulator = OpenAISimulator(api_key=API_KEY, false_positive_rate=0.0, seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http_client(socket_enabled: None) -> AsyncGenerator[httpx.AsyncClient]:
    """A real httpx client, as Home Assistant shares one."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def detector(sim: OpenAISimulator, http_client: httpx.AsyncClient) -> OpenAIDetector:
    """The detector with the right key and the default model."""
    return OpenAIDetector(http_client, API_KEY, sim.url, MODEL, timeout=5)


# --- judgements ---------------------------------------------------------------


async def test_good_frames_score_low(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    verdict = await detector.async_analyze(GOOD)

    assert verdict.failure_score < WARNING_SCORE
    assert verdict.kind is FailureKind.NONE
    assert not verdict.warning
    assert not verdict.pause
    assert verdict.print_quality is not None
    assert verdict.print_quality >= 7
    assert verdict.detector == "openai"
    assert verdict.latency_ms > 0
    assert sim.requests[-1].status == 200


async def test_spaghetti_frames_score_high_with_kind(detector: OpenAIDetector) -> None:
    verdict = await detector.async_analyze(SPAGHETTI)

    assert verdict.failure_score >= PAUSE_SCORE - 15
    assert verdict.kind is FailureKind.SPAGHETTI
    assert verdict.warning
    assert verdict.reason


async def test_all_frames_go_in_one_request_oldest_first(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    frames = make_frames(Scene(0), Scene(40, "blob"), Scene(90, "blob"))

    await detector.async_analyze(frames)

    assert len(sim.requests) == 1
    logged = sim.requests[0]
    assert logged.image_count == 3
    assert logged.scenes == [(0, "none"), (40, "blob"), (90, "blob")]
    assert logged.details == ["low", "low", "low"]
    assert logged.image_sizes == [(256, 144)] * 3
    assert "oldest to newest" in " ".join(logged.texts)
    assert logged.max_completion_tokens is not None
    schema = logged.response_format
    assert schema is not None
    assert schema["json_schema"]["strict"] is True
    assert schema["json_schema"]["schema"] == VERDICT_JSON_SCHEMA


async def test_only_the_newest_max_frames_are_sent(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, max_frames=2)
    frames = make_frames(Scene(100, "warping"), Scene(0), Scene(0))

    verdict = await detector.async_analyze(frames)

    assert sim.requests[-1].scenes == [(0, "none"), (0, "none")]
    assert verdict.failure_score < WARNING_SCORE


async def test_high_detail_is_sent_and_billed_by_tiles(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, API_KEY, sim.url, "gpt-4o", detail="high")
    frames = make_frames(Scene(0), Scene(0), long_side=1280)

    verdict = await detector.async_analyze(frames)

    logged = sim.requests[-1]
    assert logged.details == ["high", "high"]
    # 1280x720 -> 1280x720 (short side under 768) -> 3x2 tiles: 85 + 6 * 170
    assert verdict.usage.image_tokens_estimate == 2 * 1105
    assert logged.image_tokens == 2 * 1105


async def test_scripted_verdicts_are_returned_in_order(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    sim.script(
        [
            {
                "failure_score": 91,
                "print_quality": 2,
                "kind": "detachment",
                "reason": "Part moved.",
            },
            {
                "failure_score": 55.5,
                "print_quality": 5,
                "kind": "layer_shift",
                "reason": "Offset.",
            },
        ]
    )

    first = await detector.async_analyze(GOOD)
    second = await detector.async_analyze(GOOD)

    assert (first.failure_score, first.kind, first.pause) == (
        91,
        FailureKind.DETACHMENT,
        True,
    )
    assert first.reason == "Part moved."
    assert (second.failure_score, second.warning, second.pause) == (55.5, True, False)
    assert second.kind is FailureKind.LAYER_SHIFT


# --- usage and cost -------------------------------------------------------------


async def test_usage_reports_tokens_and_list_price_cost(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    verdict = await detector.async_analyze(GOOD)

    logged = sim.requests[-1]
    usage = verdict.usage
    assert usage.calls == 1
    assert usage.input_tokens == logged.prompt_tokens
    assert usage.output_tokens == logged.completion_tokens
    # 256x144 = 8x5 patches x 2.46 (gpt-4.1-nano) = 99 tokens per frame
    assert usage.image_tokens_estimate == 3 * 99 == logged.image_tokens
    assert usage.input_tokens > usage.image_tokens_estimate
    assert usage.cost_usd == pytest.approx(
        (usage.input_tokens * 0.10 + usage.output_tokens * 0.40) / 1e6
    )
    estimated_input, estimated_images = detector.estimate_input_tokens(GOOD)
    assert estimated_images == usage.image_tokens_estimate
    assert estimated_input == pytest.approx(usage.input_tokens, rel=0.05)


async def test_unpriced_local_model_costs_nothing(
    socket_enabled: None, http_client: httpx.AsyncClient
) -> None:
    async with OpenAISimulator(api_key="ollama", models=("llava:7b",)) as local:
        detector = OpenAIDetector(http_client, "ollama", local.url, "llava:7b")
        verdict = await detector.async_analyze(GOOD)

    assert verdict.usage.input_tokens > 0
    assert verdict.usage.cost_usd == 0.0
    assert request_cost("llava:7b", 1000, 1000) == 0.0


# --- error paths ------------------------------------------------------------------


async def test_wrong_key_is_an_auth_error(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, "sk-wrong-0000000000", sim.url, MODEL)

    with pytest.raises(DetectorAuthError) as err:
        await detector.async_analyze(GOOD)

    assert err.value.error_type == "invalid_api_key"
    assert sim.requests[-1].status == 401
    assert not sim.requests[-1].authorized


async def test_forbidden_is_an_auth_error(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    sim.set_mode(SimMode.FORBIDDEN, count=1)

    with pytest.raises(DetectorAuthError) as err:
        await detector.async_analyze(GOOD)

    assert err.value.error_type == "unsupported_country_region_territory"


async def test_exhausted_quota_is_an_auth_error_not_a_rate_limit(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    sim.set_mode(SimMode.QUOTA, count=1)

    with pytest.raises(DetectorAuthError) as err:
        await detector.async_analyze(GOOD)

    assert err.value.error_type == "insufficient_quota"


async def test_rate_limit_carries_retry_after(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    sim.set_mode(SimMode.RATE_LIMIT, count=1, retry_after=17)

    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze(GOOD)

    assert err.value.retry_after == 17
    # the mode was for one request only: the next check works again
    verdict = await detector.async_analyze(GOOD)
    assert verdict.failure_score < WARNING_SCORE


@pytest.mark.parametrize(
    ("mode", "retry_after"),
    [(SimMode.SERVER_ERROR, None), (SimMode.UNAVAILABLE, 4.0)],
)
async def test_server_errors_are_unavailable(
    detector: OpenAIDetector,
    sim: OpenAISimulator,
    mode: SimMode,
    retry_after: float | None,
) -> None:
    sim.set_mode(mode, retry_after=4)

    with pytest.raises(DetectorUnavailable) as err:
        await detector.async_analyze(GOOD)

    assert err.value.retry_after == retry_after
    assert len(sim.requests) == 1, "max_retries=0: the SDK must not retry"


async def test_hanging_service_times_out(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, timeout=0.3)
    sim.set_mode(SimMode.HANG)

    with pytest.raises(DetectorUnavailable, match=r"no answer within 0\.3 s"):
        await detector.async_analyze(GOOD)


async def test_unreachable_service_is_unavailable(
    socket_enabled: None, http_client: httpx.AsyncClient
) -> None:
    async with OpenAISimulator(api_key=API_KEY) as gone:
        url = gone.url
    detector = OpenAIDetector(http_client, API_KEY, url, MODEL, timeout=2)

    with pytest.raises(DetectorUnavailable, match="cannot connect"):
        await detector.async_analyze(GOOD)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (SimMode.MALFORMED, "not JSON"),
        (SimMode.OFF_SCHEMA, "lacks"),
        (SimMode.REFUSAL, "refused"),
        (SimMode.EMPTY_CHOICES, "no choices"),
        (SimMode.GARBAGE_BODY, "no JSON"),
    ],
)
async def test_unusable_answers_are_bad_responses(
    detector: OpenAIDetector, sim: OpenAISimulator, mode: SimMode, message: str
) -> None:
    sim.set_mode(mode, count=1)

    with pytest.raises(DetectorBadResponse, match=message):
        await detector.async_analyze(SPAGHETTI)


@pytest.mark.parametrize(
    "content",
    [
        '{"failure_score": 120, "print_quality": 3, "kind": "blob", "reason": "x"}',
        '{"failure_score": "95", "print_quality": 3, "kind": "blob", "reason": "x"}',
        '{"failure_score": 95, "print_quality": 3, "kind": "YES", "reason": "x"}',
        '{"failure_score": 95, "print_quality": 3, "kind": "blob"}',
        "YES",
    ],
)
async def test_off_schema_scripted_answers_never_count_as_failures(
    detector: OpenAIDetector, sim: OpenAISimulator, content: str
) -> None:
    sim.script([content])

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze(SPAGHETTI)


async def test_truncated_answer_is_a_bad_response(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, max_output_tokens=5)

    with pytest.raises(DetectorBadResponse, match="cut off"):
        await detector.async_analyze(GOOD)


async def test_undecodable_frame_is_rejected(detector: OpenAIDetector) -> None:
    broken = Frame(
        jpeg=b"\xff\xd8not really a jpeg", captured_at=T0, width=256, height=144
    )

    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([broken])


async def test_no_frames_is_rejected_without_a_request(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    with pytest.raises(DetectorFrameRejected):
        await detector.async_analyze([])

    assert sim.requests == []


async def test_unknown_model_is_model_not_found(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, API_KEY, sim.url, "gpt-9-imaginary")

    with pytest.raises(DetectorModelNotFound):
        await detector.async_analyze(GOOD)
    with pytest.raises(DetectorModelNotFound):
        await detector.async_validate()


# --- validation (options flow) ----------------------------------------------------


async def test_validate_succeeds_without_spending_tokens(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    await detector.async_validate()

    assert [(r.method, r.path, r.status) for r in sim.requests] == [
        ("GET", "/v1/models", 200)
    ]


async def test_validate_rejects_a_wrong_key(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    detector = OpenAIDetector(http_client, "sk-nope-1234567890", sim.url, MODEL)

    with pytest.raises(DetectorAuthError):
        await detector.async_validate()


async def test_validate_accepts_ollama_latest_tag(
    socket_enabled: None, http_client: httpx.AsyncClient
) -> None:
    async with OpenAISimulator(api_key="x", models=("llava:latest",)) as local:
        await OpenAIDetector(http_client, "x", local.url, "llava").async_validate()


# --- secrets ----------------------------------------------------------------------


async def test_api_key_never_logged_nor_in_errors(
    sim: OpenAISimulator,
    http_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "sk-wrong-Secret0123456789abcdef"
    errors: list[BaseException] = []
    good = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, timeout=0.3)
    bad = OpenAIDetector(http_client, wrong_key, sim.url, MODEL)

    await good.async_analyze(GOOD)
    for mode in (
        SimMode.RATE_LIMIT,
        SimMode.SERVER_ERROR,
        SimMode.MALFORMED,
        SimMode.HANG,
    ):
        sim.set_mode(mode, count=1)
        with pytest.raises(DetectorError) as err:
            await good.async_analyze(GOOD)
        errors.append(err.value)
    for call in (bad.async_analyze(GOOD), bad.async_validate()):
        with pytest.raises(DetectorAuthError) as auth_err:
            await call
        errors.append(auth_err.value)

    texts = [caplog.text, repr(good), repr(bad)]
    for error in errors:
        # what a log of the exception shows, chained causes included
        texts.extend(
            [str(error), repr(error), "".join(traceback.format_exception(error))]
        )
        # SDK errors quote OpenAI's 401 body: they must not travel along
        assert not isinstance(error.__cause__, openai.OpenAIError)
    for secret in (API_KEY, wrong_key, API_KEY[8:], wrong_key[9:]):
        assert all(secret not in text for text in texts)


# --- the answer parser shared with AI Task ---------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "text",
        {},
        {"failure_score": 10, "print_quality": 8, "kind": "none"},
        {
            "failure_score": 10,
            "print_quality": 8,
            "kind": "none",
            "reason": "x",
            "x": 1,
        },
        {"failure_score": True, "print_quality": 8, "kind": "none", "reason": "x"},
        {"failure_score": -1, "print_quality": 8, "kind": "none", "reason": "x"},
        {
            "failure_score": float("nan"),
            "print_quality": 8,
            "kind": "none",
            "reason": "x",
        },
        {"failure_score": 10, "print_quality": 8.5, "kind": "none", "reason": "x"},
        {"failure_score": 10, "print_quality": 0, "kind": "none", "reason": "x"},
        {"failure_score": 10, "print_quality": 11, "kind": "none", "reason": "x"},
        {"failure_score": 10, "print_quality": "8", "kind": "none", "reason": "x"},
        {"failure_score": 10, "print_quality": 8, "kind": "Spaghetti", "reason": "x"},
        {"failure_score": 10, "print_quality": 8, "kind": None, "reason": "x"},
        {"failure_score": 10, "print_quality": 8, "kind": "none", "reason": 3},
    ],
)
def test_parse_answer_rejects_anything_off_schema(data: Any) -> None:
    with pytest.raises(DetectorBadResponse):
        parse_answer(data)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (
            {"failure_score": 95, "print_quality": 2, "kind": "none", "reason": "x"},
            "kind none",
        ),
        (
            {"failure_score": 50, "print_quality": 5, "kind": "none", "reason": "x"},
            "kind none",
        ),
        (
            {
                "failure_score": 90,
                "print_quality": 9,
                "kind": "spaghetti",
                "reason": "x",
            },
            "good print_quality",
        ),
    ],
)
def test_parse_answer_rejects_answers_that_contradict_themselves(
    data: dict[str, Any], why: str
) -> None:
    """A failing score beside "none" or a near-perfect quality is unclear."""
    with pytest.raises(DetectorBadResponse, match=why):
        parse_answer(data)


def test_parse_answer_keeps_consistent_borderline_answers() -> None:
    assert (
        parse_answer(
            {"failure_score": 49, "print_quality": 6, "kind": "none", "reason": "ok"}
        ).kind
        is FailureKind.NONE
    )
    assert (
        parse_answer(
            {
                "failure_score": 79,
                "print_quality": 9,
                "kind": "stringing",
                "reason": "s",
            }
        ).failure_score
        == 79.0
    )
    assert parse_answer(
        {"failure_score": 80, "print_quality": 7, "kind": "blob", "reason": "b"}
    ).pause


def test_parse_answer_accepts_a_valid_answer() -> None:
    answer = parse_answer(
        {
            "failure_score": 80,
            "print_quality": 3.0,
            "kind": "warping",
            "reason": " " + "w" * 300,
        }
    )

    assert answer.failure_score == 80.0
    assert answer.print_quality == 3
    assert answer.kind is FailureKind.WARPING
    assert answer.warning
    assert answer.pause
    assert len(answer.reason) == 200


@pytest.mark.parametrize("text", [None, "", "  ", "{", "NaN]"])
def test_parse_answer_text_rejects_non_json(text: str | None) -> None:
    with pytest.raises(DetectorBadResponse):
        parse_answer_text(text)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "12"}) == 12
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-3"}) is None
    assert parse_retry_after({}) is None
    future = datetime.now(UTC) + timedelta(seconds=120)
    http_date = future.strftime("%a, %d %b %Y %H:%M:%S GMT")
    waited = parse_retry_after({"retry-after": http_date})
    assert waited is not None
    assert 100 < waited <= 120


# --- the simulator itself ---------------------------------------------------------


async def test_simulator_rejects_requests_openai_would_reject(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    jpeg = GOOD[0].jpeg
    image = {
        "type": "image_url",
        "image_url": {
            "url": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        },
    }
    loose_schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "v",
            "strict": True,
            "schema": {"type": "object", "properties": {"a": {"type": "number"}}},
        },
    }
    good_format = {
        "type": "json_schema",
        "json_schema": {"name": "v", "strict": True, "schema": VERDICT_JSON_SCHEMA},
    }
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        (
            {"model": MODEL, "messages": [{"role": "user", "content": [image]}]},
            400,
            None,
        ),
        (
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": [image]}],
                "response_format": loose_schema,
            },
            400,
            None,
        ),
        (
            {
                "model": MODEL,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": "https://x/y.jpg"},
                            }
                        ],
                    }
                ],
                "response_format": good_format,
            },
            400,
            None,
        ),
        (
            {
                "model": "nope",
                "messages": [{"role": "user", "content": "hi"}],
                "response_format": good_format,
            },
            404,
            "model_not_found",
        ),
    ]
    for body, status, code in cases:
        response = await http_client.post(
            f"{sim.url}/chat/completions", json=body, headers=headers
        )
        assert response.status_code == status
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == code
    unauthenticated = await http_client.get(f"{sim.url}/models")
    assert unauthenticated.status_code == 401


async def test_simulator_control_api(
    sim: OpenAISimulator, http_client: httpx.AsyncClient, detector: OpenAIDetector
) -> None:
    response = await http_client.post(
        f"{sim.root_url}/_sim/mode",
        json={"mode": "rate_limit", "count": 1, "retry_after": 3},
    )
    assert response.json()["mode"] == "rate_limit"
    with pytest.raises(DetectorRateLimited):
        await detector.async_analyze(GOOD)

    await http_client.post(
        f"{sim.root_url}/_sim/script",
        json={
            "verdicts": [
                {"failure_score": 99, "print_quality": 1, "kind": "blob", "reason": "r"}
            ]
        },
    )
    verdict = await detector.async_analyze(GOOD)
    assert verdict.kind is FailureKind.BLOB

    log = (await http_client.get(f"{sim.root_url}/_sim/requests")).json()
    assert [entry["status"] for entry in log] == [429, 200]
    assert log[1]["image_count"] == 3

    await http_client.post(f"{sim.root_url}/_sim/reset")
    assert sim.requests == []
    bad = await http_client.post(f"{sim.root_url}/_sim/mode", json={"mode": "chaos"})
    assert bad.status_code == 400
    not_json = await http_client.post(
        f"{sim.root_url}/_sim/script", content=b"verdicts"
    )
    assert not_json.status_code == 400


async def test_simulator_noise_model_has_rare_false_positives(
    socket_enabled: None, http_client: httpx.AsyncClient
) -> None:
    """Over many good checks most score low, a few spike, none reach pause."""
    async with OpenAISimulator(
        api_key=API_KEY, seed=3, false_positive_rate=0.05
    ) as noisy:
        detector = OpenAIDetector(http_client, API_KEY, noisy.url, MODEL)
        frames = GOOD[:1]
        scores = [
            (await detector.async_analyze(frames)).failure_score for _ in range(80)
        ]

    spikes = [score for score in scores if score >= 40]
    calm = [score for score in scores if score < 40]
    assert 1 <= len(spikes) <= 12
    assert all(score <= 75 for score in spikes)
    assert all(score <= 12 for score in calm)


def test_prepared_frames_keep_their_ground_truth() -> None:
    """The simulator can only judge what survives downscaling and re-encoding."""
    for frame in SPAGHETTI:
        assert read_scene(frame.jpeg).kind == "spaghetti"
        with Image.open(io.BytesIO(frame.jpeg)) as img:
            assert img.size == (frame.width, frame.height)
    assert json.loads(json.dumps(VERDICT_JSON_SCHEMA)) == VERDICT_JSON_SCHEMA
