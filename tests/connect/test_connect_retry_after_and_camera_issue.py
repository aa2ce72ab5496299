"""A Retry-After beyond the back-off's cap is followed; the camera-missing
repair issue goes when the camera is back, also while Connect is down."""

from __future__ import annotations

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from custom_components.print_sentinel.const import DOMAIN
from custom_components.print_sentinel.prusa_connect import (
    PrusaConnectClient,
    PrusaConnectUploader,
    camera_issue_id,
)

from ..common import advance, answering
from .test_prusa_connect import CAMERA, ENTRY_ID, FINGERPRINT, TOKEN, FakeCamera


async def test_retry_after_longer_than_backoff_cap_is_respected(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    fake_camera: FakeCamera,
    entry,
) -> None:
    """Connect says Retry-After: 900; the uploader should not retry before 900 s."""
    snapshot_times: list[float] = []
    clock = {"t": 0.0}

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        if request.path == "/c/info":
            return web.Response(status=204)
        snapshot_times.append(clock["t"])
        return web.Response(status=429, headers={"Retry-After": "900"})

    async with answering(handler) as port:
        uploader = PrusaConnectUploader(
            hass,
            entry,
            client=PrusaConnectClient(
                async_get_clientsession(hass),
                TOKEN,
                FINGERPRINT,
                f"http://127.0.0.1:{port}",
            ),
            camera_entity_id=CAMERA,
            interval=10,
            only_printing=False,
            is_printing=lambda: True,
            camera_name="cam",
        )
        uploader.async_start()
        try:
            for _ in range(100):  # 1000 s
                clock["t"] += 10
                await advance(hass, freezer, 10)
        finally:
            uploader.async_stop()
    print("snapshot attempts at", snapshot_times)
    assert snapshot_times[0] == 10
    # after a 429 asking for 900 s, the next attempt is at >= 910 s
    assert snapshot_times[1] >= 910, snapshot_times


async def test_the_camera_issue_goes_when_the_camera_is_back_while_connect_is_down(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim,
    make_uploader,
    fake_camera: FakeCamera,
) -> None:
    """Camera back but Connect 500s: the 'camera missing' issue still shows."""
    from homeassistant.components import camera

    uploader = make_uploader()
    await fake_camera.async_remove()
    for _ in range(7):
        await advance(hass, freezer, 10)
    assert ir.async_get(hass).async_get_issue(DOMAIN, camera_issue_id(ENTRY_ID))
    connect_sim.fail_500 = True
    await hass.data[camera.DATA_COMPONENT].async_add_entities([FakeCamera()])
    assert hass.states.get(CAMERA) is not None
    for _ in range(40):
        await advance(hass, freezer, 10)
    assert uploader.uploads == 0
    assert "500" in (uploader.last_error or "")
    assert ir.async_get(hass).async_get_issue(DOMAIN, camera_issue_id(ENTRY_ID)) is None
