"""A Repetier-Server error text that quotes the API key (in any form): redacted."""

from __future__ import annotations

import aiohttp
from aiohttp import web
import pytest

from custom_components.print_sentinel.printers.base import PrinterError
from custom_components.print_sentinel.printers.repetier import _RepetierClient

from .common import answering

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "rep-key+&=#%/?@:0123456789"


async def test_an_error_text_quoting_the_key_is_redacted() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": f"unknown apikey {request.headers.get('x-api-key')}"}
        )

    async with answering(handler) as port, aiohttp.ClientSession() as session:
        client = _RepetierClient(session, "127.0.0.1", port, KEY, 5)
        with pytest.raises(PrinterError) as err:
            await client.action("p", "listPrinter")
    assert KEY not in str(err.value), str(err.value)
