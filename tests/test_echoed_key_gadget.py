"""Gadget errors that quote the API key (its ErrorType too): redacted."""

from __future__ import annotations

import aiohttp
from aiohttp import web
import pytest

from custom_components.print_sentinel.detection.detectors.gadget import GadgetDetector
from custom_components.print_sentinel.detection.verdict import DetectorError

from .common import answering
from .detectors_remote import FakeClock, make_frame

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "oe_key_0123456789abcdef"


async def test_an_error_type_quoting_the_key_is_redacted() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"ErrorType": f"bad key {KEY}", "ErrorDetails": f"key {KEY}"}, status=400
        )

    async with answering(handler) as port, aiohttp.ClientSession() as session:
        detector = GadgetDetector(
            session, KEY, f"http://127.0.0.1:{port}", clock=FakeClock(), timeout=5
        )
        with pytest.raises(DetectorError) as err:
            await detector.async_analyze([make_frame()])
    assert KEY not in str(err.value), str(err.value)
