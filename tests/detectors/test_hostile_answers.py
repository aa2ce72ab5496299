"""OpenAIDetector against a hostile OpenAI-compatible server over loopback.

Each of these once crashed with an untranslated TypeError, AttributeError or
RecursionError, or read an unbounded body: now each is a DetectorError.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx
import pytest

from custom_components.print_sentinel.detection.detectors.openai_compat import (
    MAX_RETRY_AFTER,
    BoundedClient,
    OpenAIDetector,
    parse_retry_after,
    valid_base_url,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorBadResponse,
    DetectorRateLimited,
    DetectorUnavailable,
    FailureKind,
)
from simulators.openai_compat import OpenAISimulator, SimMode

from .test_openai_compat import API_KEY, GOOD, MODEL


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """A simulator without false positives."""
    simulator = OpenAISimulator(api_key=API_KEY, false_positive_rate=0.0, seed=7)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http_client(socket_enabled: None) -> AsyncGenerator[httpx.AsyncClient]:
    """Like Home Assistant's shared client, which follows redirects."""
    async with httpx.AsyncClient(follow_redirects=True) as client:
        yield client


@pytest.fixture
def detector(sim: OpenAISimulator, http_client: httpx.AsyncClient) -> OpenAIDetector:
    """A detector talking to the simulator."""
    return OpenAIDetector(http_client, API_KEY, sim.url, MODEL)


@pytest.mark.parametrize(
    "mode",
    [
        SimMode.DEEP_JSON,
        SimMode.LIST_BODY,
        SimMode.HUGE_BODY,
        SimMode.MESSAGE_NULL,
        SimMode.CHOICES_STRINGS,
        SimMode.NAN_SCORE,
        SimMode.DEEP_CONTENT,
        SimMode.GARBAGE_BODY,
        SimMode.REDIRECT,
    ],
)
async def test_a_hostile_answer_is_a_bad_response(
    detector: OpenAIDetector, sim: OpenAISimulator, mode: SimMode
) -> None:
    sim.set_mode(mode)
    sim.redirect_to = f"{sim.url}/models"

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze(GOOD)


async def test_a_redirect_is_not_followed(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    """A 307 would resend the key and the frames wherever it points."""
    sim.set_mode(SimMode.REDIRECT)
    sim.redirect_to = f"{sim.url}/chat/completions"

    with pytest.raises(DetectorBadResponse, match="307"):
        await detector.async_analyze(GOOD)

    assert len(sim.requests) == 1


@pytest.mark.parametrize("mode", [SimMode.USAGE_NULL, SimMode.USAGE_HUGE])
async def test_unusable_usage_is_estimated(
    detector: OpenAIDetector, sim: OpenAISimulator, mode: SimMode
) -> None:
    """A verdict with null or absurd usage is kept, its cost estimated."""
    sim.set_mode(mode)

    verdict = await detector.async_analyze(GOOD)

    assert verdict.kind is FailureKind.NONE
    estimate, _ = detector.estimate_input_tokens(GOOD)
    assert verdict.usage.input_tokens == estimate
    assert verdict.usage.cost_usd < 0.01


async def test_a_body_that_never_ends_is_cut_by_the_timeout(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    sim.set_mode(SimMode.HANG)
    detector = OpenAIDetector(http_client, API_KEY, sim.url, MODEL, timeout=0.3)

    with pytest.raises(DetectorUnavailable, match=r"0\.3 s"):
        await detector.async_analyze(GOOD)


@pytest.mark.parametrize(
    "body",
    ['{"printers": []}', "[]", "<html><body>Router login</body></html>", "[" * 9000],
)
async def test_validate_refuses_what_is_not_a_model_list(
    detector: OpenAIDetector, sim: OpenAISimulator, body: str
) -> None:
    """A base URL that answers something else is a bad response, not a 500."""
    sim.models_body = body

    with pytest.raises(DetectorBadResponse):
        await detector.async_validate()


async def test_validate_still_accepts_a_model_list(detector: OpenAIDetector) -> None:
    await detector.async_validate()


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://api.openai.com/v1", True),
        ("http://127.0.0.1:11434/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://[::1", False),
        ("ftp://example.com", False),
        ("not a url", False),
        ("", False),
        ("http://user:pw@example.com/v1", False),
        ("http://example.com:99999/v1", False),
        ("http://\U0001f4a5.local/v1", False),
        ("http://b\u00fccher.example/v1", True),
        ("http://host\x00/v1", False),
        ("http://host/v1\x7f", False),
        ("http://ho st/v1", False),
    ],
)
def test_base_urls(url: str, valid: bool) -> None:
    assert valid_base_url(url) is valid


def test_a_bad_base_url_is_refused_up_front(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="base URL"):
        OpenAIDetector(http_client, API_KEY, "http://[::1", MODEL)


async def test_the_shared_client_stays_open(
    sim: OpenAISimulator, http_client: httpx.AsyncClient
) -> None:
    """Closing the wrapper (the SDK may) leaves Home Assistant's client alone."""
    wrapper = BoundedClient(http_client)
    await wrapper.aclose()

    assert not http_client.is_closed
    response = await wrapper.send(http_client.build_request("GET", sim.root_url))
    assert response.status_code == 404


@pytest.mark.parametrize("retry_after", [1e9, 86400 * 365])
async def test_a_huge_retry_after_is_cut(
    detector: OpenAIDetector, sim: OpenAISimulator, retry_after: float
) -> None:
    """A wait of years would stop detection for the print: cut to 600 s."""
    sim.set_mode(SimMode.RATE_LIMIT, retry_after=retry_after)

    with pytest.raises(DetectorRateLimited) as err:
        await detector.async_analyze(GOOD)

    assert err.value.retry_after == MAX_RETRY_AFTER


def test_a_far_retry_date_is_cut() -> None:
    assert parse_retry_after({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}) == (
        MAX_RETRY_AFTER
    )


async def test_empty_content_is_a_bad_response(
    detector: OpenAIDetector, sim: OpenAISimulator
) -> None:
    sim.script([""])

    with pytest.raises(DetectorBadResponse, match="empty"):
        await detector.async_analyze(GOOD)
