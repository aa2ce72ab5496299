"""OpenAIDetector: the less common answers of OpenAI-compatible services."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
    parse_retry_after,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorAuthError,
    DetectorBadResponse,
    FailureKind,
)
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene

from .test_openai_compat import API_KEY, GOOD, MODEL, make_frames


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """A simulator without false positives."""
    simulator = OpenAISimulator(api_key=API_KEY, false_positive_rate=0.0, seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http_client(socket_enabled: None) -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_a_request_the_service_refuses_is_a_bad_response(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    """A 400 without an error code (here: a parameter the service rejects)."""
    detector = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, max_output_tokens=0)

    with pytest.raises(
        DetectorBadResponse, match=r"refused the request \(HTTP 400, no code\)"
    ):
        await detector.async_analyze(make_frames(Scene(95, "spaghetti")))

    assert sim.requests[-1].status == 400


async def test_without_an_output_cap_no_token_limit_is_sent(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    """Some servers reject `max_completion_tokens`; None leaves it out."""
    detector = OpenAIDetector(
        http_client, API_KEY, sim.url, MODEL, max_output_tokens=None
    )

    verdict = await detector.async_analyze(GOOD)

    assert sim.requests[-1].max_completion_tokens is None
    assert sim.requests[-1].status == 200
    assert verdict.kind is FailureKind.NONE


async def test_an_empty_api_key_still_sends_the_request(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    """Ollama needs no key, and the SDK refuses an empty one: a placeholder is sent.

    This simulator wants a real key, so the placeholder is answered 401, which
    shows the request went out with a key (not "You didn't provide an API key").
    """
    detector = OpenAIDetector(http_client, "", sim.url, MODEL)

    # the simulator gives a code only to a key it does not know
    with pytest.raises(DetectorAuthError, match=r"HTTP 401, invalid_api_key"):
        await detector.async_analyze(GOOD)

    assert sim.requests[-1].status == 401


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"detail": "ultra"}, "detail"),
        ({"timeout": 0}, "timeout"),
        ({"max_frames": 0}, "max_frames"),
    ],
)
def test_impossible_settings_are_refused(
    http_client: httpx.AsyncClient, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAIDetector(http_client, API_KEY, "http://127.0.0.1:9/v1", MODEL, **settings)


def test_retry_after_falls_back_when_the_millisecond_header_is_unusable() -> None:
    for millis in ("soon", "-100", "inf", "nan"):
        assert parse_retry_after({"retry-after-ms": millis, "retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after-ms": "soon"}) is None


def test_retry_after_http_date_without_a_zone_is_utc() -> None:
    """RFC 850 dates with "-0000" parse as naive datetimes."""
    future = datetime.now(UTC) + timedelta(seconds=90)
    waited = parse_retry_after(
        {"retry-after": future.strftime("%a, %d %b %Y %H:%M:%S -0000")}
    )
    assert waited is not None
    assert 80 < waited <= 90
    past = datetime.now(UTC) - timedelta(hours=1)
    assert (
        parse_retry_after({"retry-after": past.strftime("%a, %d %b %Y %H:%M:%S GMT")})
        == 0.0
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Layer Shift", FailureKind.LAYER_SHIFT),
        ("layer-shift", FailureKind.LAYER_SHIFT),
        ("  SPAGHETTI ", FailureKind.SPAGHETTI),
        ("under extrusion", FailureKind.UNDER_EXTRUSION),
        ("none", FailureKind.NONE),
        ("nozzle clog", FailureKind.OTHER),
        ("", FailureKind.OTHER),
        (None, FailureKind.OTHER),
        (3, FailureKind.OTHER),
    ],
)
def test_free_form_failure_kinds_map_onto_ours(
    value: object, kind: FailureKind
) -> None:
    assert FailureKind.parse(value) is kind
