"""Reading a detector answer: bounded bodies and strict JSON, over loopback."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
from aiohttp import web
import httpx
import pytest

from custom_components.print_sentinel.detection.detectors.bounded import (
    AnswerTooLarge,
    NotJSON,
    finite_number,
    loads,
    loads_or_none,
    read_body,
)
from custom_components.print_sentinel.detection.detectors.openai_compat import (
    AnswerTooLargeError,
    BoundedClient,
    _NoTransport,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def server() -> AsyncGenerator[str]:
    """Answers `/fixed/{n}` with n bytes (Content-Length) and `/chunked/{n}`
    with n bytes in 64 KiB chunks and no length."""

    async def fixed(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.match_info["n"]))

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        left = int(request.match_info["n"])
        while left > 0:
            await response.write(b"y" * min(65536, left))
            left -= 65536
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/fixed/{n}", fixed)
    app.router.add_get("/chunked/{n}", chunked)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.mark.parametrize("kind", ["fixed", "chunked"])
async def test_read_body_stops_at_the_limit(server: str, kind: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server}/{kind}/300000") as resp:
            assert len(await read_body(resp, limit=300000)) == 300000
        async with session.get(f"{server}/{kind}/300001") as resp:
            with pytest.raises(AnswerTooLarge):
                await read_body(resp, limit=300000)


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "-Infinity",
        "1e999",
        "1" * 301,
        "[" * 65 + "]" * 65,
        '{"a":' * 65 + "1" + "}" * 65,
        b"\xff\xfe{",
        "",
    ],
    ids=["nan", "minus_inf", "overflow", "long_int", "deep", "deep_obj", "bytes", "e"],
)
def test_loads_refuses(raw: str | bytes) -> None:
    with pytest.raises(NotJSON):
        loads(raw)
    assert loads_or_none(raw) is None


def test_loads_accepts_ordinary_answers_and_brackets_in_strings() -> None:
    assert loads('{"a": "' + "[" * 500 + '", "b": [1, 2.5, -3]}') == {
        "a": "[" * 500,
        "b": [1, 2.5, -3],
    }
    assert loads("[" * 64 + "]" * 64) is not None


@pytest.mark.parametrize(
    ("value", "number"),
    [(1, 1.0), (2.5, 2.5), (True, None), ("1", None), (10**400, None), (None, None)],
)
def test_finite_number(value: object, number: float | None) -> None:
    assert finite_number(value) == number


async def test_the_openai_wrapper_stops_a_chunked_answer_at_the_limit(
    server: str,
) -> None:
    async with httpx.AsyncClient() as shared:
        client = BoundedClient(shared, limit=300000)
        ok = await client.send(client.build_request("GET", f"{server}/chunked/300000"))
        assert len(ok.content) == 300000
        with pytest.raises(AnswerTooLargeError):
            await client.send(client.build_request("GET", f"{server}/chunked/300001"))


async def test_the_openai_wrapper_has_no_transport_of_its_own() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        await _NoTransport().handle_async_request(httpx.Request("GET", "http://x"))
