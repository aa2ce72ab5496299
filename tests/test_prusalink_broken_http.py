"""Answers that break HTTP itself: a body that is not what its encoding says, a
Digest challenge that cannot be parsed, a redirect loop. The form shows an error
(never a 500) and a configured printer turns unavailable with one log line."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import httpx
import pytest

from custom_components.print_sentinel.const import DOMAIN
from custom_components.print_sentinel.printers.base import PrinterResponseError
from custom_components.print_sentinel.printers.prusalink import PrusaLinkBackend

BROKEN = ("bad_gzip", "bad_challenge", "redirect_loop")


def _answer(kind: str) -> web.Response:
    if kind == "bad_gzip":
        return web.Response(
            body=b"this is not gzip at all",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    if kind == "bad_challenge":
        return web.Response(
            status=401, headers={"WWW-Authenticate": 'Digest realm="x", nonce='}
        )
    raise web.HTTPFound("/api/version")


@pytest.fixture
async def broken(socket_enabled: None) -> AsyncGenerator[dict[str, str]]:
    """A server whose every answer is broken the way `kind` says."""
    app = web.Application()
    state = {"kind": "bad_gzip"}

    async def handler(request: web.Request) -> web.Response:
        return _answer(state["kind"])

    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state["host"] = f"127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.mark.parametrize("kind", BROKEN)
async def test_the_backend_calls_it_a_response_error(
    broken: dict[str, str], kind: str
) -> None:
    broken["kind"] = kind
    async with httpx.AsyncClient(follow_redirects=True) as http:
        backend = PrusaLinkBackend(http, f"http://{broken['host']}", "maker", "pw")
        with pytest.raises(PrinterResponseError):
            await backend.async_poll()


@pytest.mark.parametrize("kind", BROKEN)
async def test_the_form_shows_an_error_not_a_500(
    hass: HomeAssistant, broken: dict[str, str], kind: str
) -> None:
    broken["kind"] = kind
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusalink"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: broken["host"], CONF_USERNAME: "maker", CONF_PASSWORD: "pw"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_prusalink"}
