"""Prusa Connect snapshot upload: client, snapshot preparation, uploader, simulator.

Everything runs against the loopback `PrusaConnectSimulator`; the uploader takes its
pictures from a real camera entity (a small test camera platform) through
`camera.async_get_image`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
import hashlib
import io
import logging
import socket

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import camera
from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.core import HassJob, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    async_fire_time_changed,
    mock_platform,
)

from custom_components.print_sentinel.const import DOMAIN, MIN_CONNECT_INTERVAL
from custom_components.print_sentinel.prusa_connect import (
    MAX_SNAPSHOT_BYTES,
    MAX_SNAPSHOT_SIDE,
    ConnectAuthError,
    ConnectError,
    ConnectNeedsRegistration,
    ConnectRateLimited,
    PrusaConnectClient,
    PrusaConnectUploader,
    auth_issue_id,
    camera_issue_id,
    generate_fingerprint,
    prepare_snapshot,
)
from simulators.prusa_connect import SNAPSHOT_LIMIT, PrusaConnectSimulator
from simulators.scene import Scene, read_scene, render_frame
from tests.common import advance

TOKEN = "tok-9d2f61c4a7e0b3"
FINGERPRINT = hashlib.sha256(b"print-sentinel-test-camera").hexdigest()
CAMERA = "camera.printer_cam"
INTERVAL = 10
ENTRY_ID = "entry_mk4"
PRINTER = "Prusa MK4"
LOGGER_NAME = "custom_components.print_sentinel"

type UploaderFactory = Callable[..., PrusaConnectUploader]


def _image(width: int, height: int, fmt: str = "JPEG", *, noise: bool = False) -> bytes:
    """Encode an image; `noise` makes it compress badly (a large file)."""
    if noise:
        img = Image.frombytes(
            "RGB", (width, height), hashlib.shake_256(b"x").digest(width * height * 3)
        )
    else:
        img = Image.new("RGB", (width, height), (120, 60, 30))
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def _size(jpeg: bytes) -> tuple[int, int]:
    """Return the size of an encoded image."""
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG"
        return img.size


# --- fixtures -------------------------------------------------------------------


@pytest.fixture
async def connect_sim(socket_enabled: None) -> AsyncGenerator[PrusaConnectSimulator]:
    """A running Prusa Connect simulator that knows TOKEN (on loopback)."""
    sim = PrusaConnectSimulator(tokens={TOKEN})
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain aiohttp session for client tests."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(
    session: aiohttp.ClientSession, connect_sim: PrusaConnectSimulator
) -> PrusaConnectClient:
    """A client for the simulator with a valid token."""
    return PrusaConnectClient(session, TOKEN, FINGERPRINT, connect_sim.url)


class FakeCamera(camera.Camera):
    """A camera entity whose next picture a test sets."""

    _attr_name = "Printer cam"

    def __init__(self) -> None:
        """Start with a 1280x720 print-bed frame."""
        super().__init__()
        self.image: bytes | None = render_frame(Scene(0))

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the picture (None makes HA raise 'Unable to get image')."""
        return self.image


@pytest.fixture
async def fake_camera(hass: HomeAssistant) -> FakeCamera:
    """Set up the camera integration with one FakeCamera entity (CAMERA)."""
    cam = FakeCamera()

    async def _async_setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        async_add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        async_add_entities([cam])

    mock_platform(
        hass, "test.camera", MockPlatform(async_setup_platform=_async_setup_platform)
    )
    assert await async_setup_component(
        hass, CAMERA_DOMAIN, {CAMERA_DOMAIN: {"platform": "test"}}
    )
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA) is not None
    return cam


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """The printer's config entry."""
    config_entry = MockConfigEntry(domain=DOMAIN, title=PRINTER, entry_id=ENTRY_ID)
    config_entry.add_to_hass(hass)
    return config_entry


@pytest.fixture
async def make_uploader(
    hass: HomeAssistant,
    connect_sim: PrusaConnectSimulator,
    fake_camera: FakeCamera,
    entry: MockConfigEntry,
) -> AsyncGenerator[UploaderFactory]:
    """Build and start uploaders; stop them all after the test."""
    uploaders: list[PrusaConnectUploader] = []

    def _make(
        *,
        token: str = TOKEN,
        interval: float = INTERVAL,
        only_printing: bool = False,
        is_printing: Callable[[], bool] = lambda: True,
    ) -> PrusaConnectUploader:
        uploader = PrusaConnectUploader(
            hass,
            entry,
            client=PrusaConnectClient(
                async_get_clientsession(hass), token, FINGERPRINT, connect_sim.url
            ),
            camera_entity_id=CAMERA,
            interval=interval,
            only_printing=only_printing,
            is_printing=is_printing,
            camera_name="MK4 bed",
        )
        uploaders.append(uploader)
        uploader.async_start()
        return uploader

    yield _make
    for uploader in uploaders:
        uploader.async_stop()


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = INTERVAL
) -> None:
    """Move time on by one interval and let the upload finish."""
    await advance(hass, freezer, seconds)


def _upload_timers(hass: HomeAssistant) -> list[asyncio.TimerHandle]:
    """Return the active timers that belong to a Prusa Connect uploader."""
    return [
        handle
        for handle in get_scheduled_timer_handles(hass.loop)
        if not handle.cancelled()
        and handle._args
        and isinstance(job := handle._args[-1], HassJob)
        and "Prusa Connect upload" in (job.name or "")
    ]


def _last_error(uploader: PrusaConnectUploader) -> str | None:
    """Read `last_error` (a call, so mypy does not carry narrowing across ticks)."""
    return uploader.last_error


def _running(uploader: PrusaConnectUploader) -> bool:
    """Read `running` (a call, so mypy does not carry narrowing across ticks)."""
    return uploader.running


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return our integration's log messages at exactly `level`."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(LOGGER_NAME) and record.levelno == level
    ]


# --- fingerprint and client -----------------------------------------------------


def test_generate_fingerprint_is_random_sha256_hex() -> None:
    """A fingerprint is 64 lowercase hex characters and differs every time."""
    first, second = generate_fingerprint(), generate_fingerprint()
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert first == first.lower()
    assert first != second


async def test_client_registers_then_uploads(
    client: PrusaConnectClient, connect_sim: PrusaConnectSimulator
) -> None:
    """Registration stores name and resolution; the upload arrives as a JPEG."""
    frame = render_frame(Scene(0))
    await client.async_register("MK4 bed", 1280, 720)
    await client.async_upload(frame)

    cam = connect_sim.camera(TOKEN, FINGERPRINT)
    assert cam is not None
    assert (cam.name, cam.width, cam.height, cam.registrations) == (
        "MK4 bed",
        1280,
        720,
        1,
    )
    [snapshot] = cam.snapshots
    assert (snapshot.size, snapshot.width, snapshot.height) == (len(frame), 1280, 720)
    assert snapshot.content_type == "image/jpg"
    assert snapshot.jpeg == frame


async def test_client_accepts_200_as_success(
    client: PrusaConnectClient, connect_sim: PrusaConnectSimulator
) -> None:
    """Some deployments answer 200 instead of 204."""
    connect_sim.answer_200 = True
    await client.async_register("MK4 bed", 1280, 720)
    await client.async_upload(render_frame(Scene(0)))
    assert [r.status for r in connect_sim.requests] == [200, 200]
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1


async def test_client_upload_before_registration_needs_registration(
    client: PrusaConnectClient, connect_sim: PrusaConnectSimulator
) -> None:
    """Connect answers 400 to a camera it does not know."""
    with pytest.raises(ConnectNeedsRegistration):
        await client.async_upload(render_frame(Scene(0)))
    await client.async_register("MK4 bed", 1280, 720)
    connect_sim.forget_registrations()
    with pytest.raises(ConnectNeedsRegistration):
        await client.async_upload(render_frame(Scene(0)))
    assert connect_sim.snapshots(TOKEN, FINGERPRINT) == []


async def test_client_unknown_token_is_auth_error(
    session: aiohttp.ClientSession, connect_sim: PrusaConnectSimulator
) -> None:
    """401 for a token Connect does not know, on both calls."""
    client = PrusaConnectClient(session, "not-a-token", FINGERPRINT, connect_sim.url)
    with pytest.raises(ConnectAuthError):
        await client.async_register("MK4 bed", 1280, 720)
    with pytest.raises(ConnectAuthError):
        await client.async_upload(render_frame(Scene(0)))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ConnectAuthError),
        (403, ConnectAuthError),
        (500, ConnectError),
        (502, ConnectError),
        (413, ConnectError),
    ],
)
async def test_client_maps_statuses_to_errors(
    client: PrusaConnectClient,
    connect_sim: PrusaConnectSimulator,
    status: int,
    error: type[ConnectError],
) -> None:
    """Each status raises its typed error, without leaking secrets."""
    connect_sim.force_status = status
    for call in (
        client.async_register("MK4 bed", 1280, 720),
        client.async_upload(render_frame(Scene(0))),
    ):
        with pytest.raises(error) as exc_info:
            await call
        assert type(exc_info.value) is error
        assert str(status) in str(exc_info.value)
        assert TOKEN not in str(exc_info.value)
        assert FINGERPRINT not in str(exc_info.value)


async def test_client_registration_rejected_is_connect_error(
    client: PrusaConnectClient, connect_sim: PrusaConnectSimulator
) -> None:
    """A 400 to /c/info is not 'register again' but a plain error."""
    connect_sim.force_status = 400
    with pytest.raises(ConnectError) as exc_info:
        await client.async_register("MK4 bed", 1280, 720)
    assert type(exc_info.value) is ConnectError


async def test_client_rate_limited_carries_retry_after(
    client: PrusaConnectClient, connect_sim: PrusaConnectSimulator
) -> None:
    """A second snapshot inside Connect's minimum interval gets 429 + Retry-After."""
    connect_sim.min_interval = 60
    await client.async_register("MK4 bed", 1280, 720)
    await client.async_upload(render_frame(Scene(0)))
    with pytest.raises(ConnectRateLimited) as exc_info:
        await client.async_upload(render_frame(Scene(0)))
    assert exc_info.value.retry_after is not None
    assert 59 <= exc_info.value.retry_after <= 60
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1


async def test_client_timeout_is_connect_error(
    session: aiohttp.ClientSession, connect_sim: PrusaConnectSimulator
) -> None:
    """A hanging Connect ends in ConnectError after the client's timeout."""
    client = PrusaConnectClient(
        session, TOKEN, FINGERPRINT, connect_sim.url, timeout=0.2
    )
    connect_sim.set_hang(True)
    with pytest.raises(ConnectError, match="Timed out"):
        await client.async_upload(render_frame(Scene(0)))
    connect_sim.set_hang(False)


async def test_client_unreachable_is_connect_error(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listening: ConnectError naming the failure, not the secrets."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PrusaConnectClient(session, TOKEN, FINGERPRINT, f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectError, match="Cannot reach Prusa Connect") as exc_info:
        await client.async_upload(render_frame(Scene(0)))
    assert TOKEN not in str(exc_info.value)


@pytest.mark.parametrize(
    ("token", "fingerprint"),
    [("", FINGERPRINT), (TOKEN, "short"), (TOKEN, "f" * 65)],
)
def test_client_refuses_bad_credentials_without_echoing_them(
    session: aiohttp.ClientSession, token: str, fingerprint: str
) -> None:
    """Empty token or a fingerprint outside 16-64 characters is a ValueError."""
    with pytest.raises(ValueError, match="Prusa Connect") as exc_info:
        PrusaConnectClient(session, token, fingerprint)
    assert fingerprint not in str(exc_info.value)


def test_client_repr_hides_secrets(session: aiohttp.ClientSession) -> None:
    """The repr shows the server only."""
    client = PrusaConnectClient(session, TOKEN, FINGERPRINT, "http://127.0.0.1:1/")
    assert client.base_url == "http://127.0.0.1:1"
    assert TOKEN not in repr(client)
    assert FINGERPRINT not in repr(client)


# --- prepare_snapshot -----------------------------------------------------------


def test_prepare_snapshot_keeps_small_jpeg() -> None:
    """A JPEG within limits is passed on byte for byte."""
    frame = render_frame(Scene(0))
    assert prepare_snapshot(frame) == (frame, 1280, 720)


def test_prepare_snapshot_downscales_large_resolution() -> None:
    """A 4000x3000 frame fits 1920 px and still shows what it showed."""
    frame = render_frame(Scene(70, "spaghetti"), 4000, 3000)
    jpeg, width, height = prepare_snapshot(frame)
    assert (width, height) == (1920, 1440)
    assert _size(jpeg) == (1920, 1440)
    assert len(jpeg) <= MAX_SNAPSHOT_BYTES
    assert read_scene(jpeg) == Scene(70, "spaghetti")


def test_prepare_snapshot_shrinks_large_file() -> None:
    """A noisy JPEG over 1 MiB within 1920 px is re-encoded below 1 MiB."""
    noisy = _image(1920, 1080, noise=True)
    assert len(noisy) > MAX_SNAPSHOT_BYTES
    jpeg, width, height = prepare_snapshot(noisy)
    assert len(jpeg) <= MAX_SNAPSHOT_BYTES
    assert _size(jpeg) == (width, height)
    assert max(width, height) <= MAX_SNAPSHOT_SIDE


def test_prepare_snapshot_converts_other_formats_to_jpeg() -> None:
    """A PNG camera picture is sent as a JPEG of the same size."""
    jpeg, width, height = prepare_snapshot(_image(640, 480, "PNG"))
    assert (width, height) == (640, 480)
    assert _size(jpeg) == (640, 480)


@pytest.mark.parametrize(
    "data", [b"not an image", render_frame(Scene(0))[:2000]], ids=["junk", "truncated"]
)
def test_prepare_snapshot_rejects_undecodable_bytes(data: bytes) -> None:
    """Bytes that are not a whole picture raise ValueError."""
    with pytest.raises(ValueError, match="not a decodable picture"):
        prepare_snapshot(data)


# --- simulator protocol checks --------------------------------------------------


async def test_simulator_enforces_the_protocol(
    session: aiohttp.ClientSession, connect_sim: PrusaConnectSimulator
) -> None:
    """Headers, body type, size, method and the /c/info shape are all checked."""
    url = connect_sim.url
    frame = render_frame(Scene(0))
    headers = {"Token": TOKEN, "Fingerprint": FINGERPRINT}

    async def put(path: str, body: bytes, content_type: str, **override: str) -> int:
        async with session.put(
            f"{url}{path}",
            data=body,
            headers={**headers, "Content-Type": content_type, **override},
        ) as response:
            return response.status

    info = b'{"config": {"name": "cam", "resolution": {"width": 1280, "height": 720}}}'
    assert await put("/c/info", b'{"config": {}}', "application/json") == 400
    assert await put("/c/info", b"[1]", "application/json") == 400
    assert await put("/c/info", info, "application/json", Fingerprint="short") == 400
    assert await put("/c/info", info, "application/json", Token="nope") == 401
    assert await put("/c/info", info, "application/json") == 204
    assert await put("/c/snapshot", frame, "image/png") == 400
    assert await put("/c/snapshot", b"\xff\xd8 junk", "image/jpg") == 400
    assert await put("/c/snapshot", _image(64, 64, "PNG"), "image/jpg") == 400
    assert await put("/c/snapshot", frame, "image/jpeg") == 204
    assert await put("/c/snapshot", b"\0" * (SNAPSHOT_LIMIT + 1), "image/jpg") == 413
    async with session.get(f"{url}/c/snapshot", headers=headers) as response:
        assert response.status == 405
    async with session.post(f"{url}/c/info", headers=headers) as response:
        assert response.status == 405
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1


async def test_simulator_control_endpoints(
    session: aiohttp.ClientSession,
    client: PrusaConnectClient,
    connect_sim: PrusaConnectSimulator,
) -> None:
    """Switches, state, forget and reset work over HTTP, as the CLI user needs."""
    url = connect_sim.url
    await client.async_register("MK4 bed", 1280, 720)
    await client.async_upload(render_frame(Scene(0)))
    async with session.get(f"{url}/_sim/state") as response:
        state = await response.json()
    assert state["cameras"] == [
        {
            "name": "MK4 bed",
            "resolution": [1280, 720],
            "registered": True,
            "registrations": 1,
            "snapshots": 1,
            "last_snapshot": {
                "size": len(render_frame(Scene(0))),
                "width": 1280,
                "height": 720,
            },
        }
    ]
    async with session.post(
        f"{url}/_sim/switches", json={"force_status": 403, "answer_200": True}
    ) as response:
        assert (await response.json())["force_status"] == 403
    with pytest.raises(ConnectAuthError):
        await client.async_upload(render_frame(Scene(0)))
    async with session.post(f"{url}/_sim/switches", json={"bogus": 1}) as response:
        assert response.status == 400
    async with session.post(f"{url}/_sim/switches", json={"force_status": None}):
        pass
    async with session.post(f"{url}/_sim/forget"):
        pass
    with pytest.raises(ConnectNeedsRegistration):
        await client.async_upload(render_frame(Scene(0)))
    async with session.post(f"{url}/_sim/reset"):
        pass
    assert connect_sim.cameras == {}
    assert connect_sim.requests == []
    assert connect_sim.answer_200 is False


# --- uploader -------------------------------------------------------------------


async def test_uploader_uploads_every_interval_and_registers_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """Each interval uploads the camera's picture; the camera registers once."""
    uploader = make_uploader()
    changes: list[None] = []
    unsub = uploader.async_add_listener(lambda: changes.append(None))

    await _tick(hass, freezer, INTERVAL - 1)
    assert connect_sim.requests == []

    await _tick(hass, freezer, 1)
    assert uploader.uploads == 1
    assert uploader.last_success == dt_util.utcnow()
    assert _last_error(uploader) is None
    assert len(changes) == 1

    await _tick(hass, freezer)
    await _tick(hass, freezer)
    cam = connect_sim.camera(TOKEN, FINGERPRINT)
    assert cam is not None
    assert (cam.name, cam.width, cam.height, cam.registrations) == (
        "MK4 bed",
        1280,
        720,
        1,
    )
    assert len(cam.snapshots) == 3
    assert read_scene(cam.snapshots[-1].jpeg) == Scene(0)
    assert uploader.uploads == 3
    assert len(changes) == 3

    unsub()
    await _tick(hass, freezer)
    assert uploader.uploads == 4
    assert len(changes) == 3


async def test_uploader_interval_has_a_minimum(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """An interval below 10 s is raised to MIN_CONNECT_INTERVAL."""
    uploader = make_uploader(interval=2)
    assert uploader.interval == timedelta(seconds=MIN_CONNECT_INTERVAL)
    await _tick(hass, freezer, MIN_CONNECT_INTERVAL - 1)
    assert connect_sim.requests == []
    await _tick(hass, freezer, 1)
    assert uploader.uploads == 1


async def test_uploader_only_while_printing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """With only_printing, nothing is sent (not even the camera read) when idle."""
    printing = False
    make_uploader(only_printing=True, is_printing=lambda: printing)

    for _ in range(3):
        await _tick(hass, freezer)
    assert connect_sim.requests == []

    printing = True
    await _tick(hass, freezer)
    await _tick(hass, freezer)
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 2

    printing = False
    await _tick(hass, freezer)
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 2


async def test_uploader_ignores_printing_state_when_not_configured(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """Without only_printing, an idle printer's camera is uploaded too."""
    make_uploader(only_printing=False, is_printing=lambda: False)
    await _tick(hass, freezer)
    assert len(connect_sim.snapshots(TOKEN, FINGERPRINT)) == 1


async def test_uploader_registers_again_after_400(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connect forgetting the camera: register in that cycle, upload in the next."""
    uploader = make_uploader()
    await _tick(hass, freezer)
    cam = connect_sim.camera(TOKEN, FINGERPRINT)
    assert cam is not None
    assert (cam.registrations, len(cam.snapshots)) == (1, 1)

    connect_sim.forget_registrations()
    await _tick(hass, freezer)
    assert (cam.registrations, len(cam.snapshots)) == (2, 1)
    assert cam.registered

    await _tick(hass, freezer)
    assert (cam.registrations, len(cam.snapshots)) == (2, 2)
    assert uploader.uploads == 2
    assert _last_error(uploader) is None
    assert _records(caplog, logging.WARNING) == []


async def test_uploader_persistent_400_is_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 400 right after registering again does not loop; it backs off and warns."""
    uploader = make_uploader()
    await _tick(hass, freezer)
    connect_sim.forget_registrations()
    await _tick(hass, freezer)  # 400 -> registered again
    connect_sim.forget_registrations()
    await _tick(hass, freezer)  # 400 again -> outage
    assert _last_error(uploader) is not None
    assert "HTTP 400" in str(_last_error(uploader))
    [warning] = _records(caplog, logging.WARNING)
    assert "HTTP 400" in warning

    # The next attempt registers and uploads in one cycle.
    requests = len(connect_sim.requests)
    await _tick(hass, freezer)
    assert [(r.path, r.status) for r in connect_sim.requests[requests:]] == [
        ("/c/info", 204),
        ("/c/snapshot", 204),
    ]
    assert uploader.uploads == 2
    assert _last_error(uploader) is None
    assert len(_records(caplog, logging.WARNING)) == 1


@pytest.mark.parametrize(
    ("token", "forced"),
    [("unknown-token", None), (TOKEN, 401), (TOKEN, 403)],
    ids=["unknown_token", "401", "403"],
)
async def test_uploader_auth_failure_raises_issue_and_stops(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
    token: str,
    forced: int | None,
) -> None:
    """A rejected token: repair issue, no more requests; a reload's success clears it."""
    connect_sim.force_status = forced
    uploader = make_uploader(token=token)
    changes: list[None] = []
    uploader.async_add_listener(lambda: changes.append(None))
    await _tick(hass, freezer)

    issue = ir.async_get(hass).async_get_issue(DOMAIN, auth_issue_id(ENTRY_ID))
    assert issue is not None
    assert issue.translation_key == "connect_auth_failed"
    assert issue.translation_placeholders == {"printer": PRINTER}
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert uploader.auth_failed
    assert not _running(uploader)
    assert _last_error(uploader) is not None
    assert len(changes) == 1
    assert len(_records(caplog, logging.ERROR)) == 1
    assert _upload_timers(hass) == []

    requests = len(connect_sim.requests)
    for _ in range(5):
        await _tick(hass, freezer, 60)
    assert len(connect_sim.requests) == requests
    uploader.async_start()  # a stopped-by-auth uploader stays stopped
    assert not _running(uploader)

    # The user fixes the token: the entry reloads, a new uploader starts.
    uploader.async_stop()
    connect_sim.force_status = None
    connect_sim.tokens.add(token)
    fixed = make_uploader(token=token)
    await _tick(hass, freezer)
    assert fixed.uploads == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, auth_issue_id(ENTRY_ID)) is None


async def test_uploader_backs_off_with_one_warning_per_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """500s: retries at 1, 2, 4, 8, 16... intervals, capped at 5 min; one warning."""
    uploader = make_uploader()
    connect_sim.fail_500 = True
    attempts: list[int] = []
    for tick in range(1, 101):
        before = len(connect_sim.requests)
        await _tick(hass, freezer)
        if len(connect_sim.requests) > before:
            attempts.append(tick)
    # gaps 1, 2, 4, 8, 16, then 30 intervals (300 s) at most
    assert attempts == [1, 2, 4, 8, 16, 32, 62, 92]
    assert _last_error(uploader) == "Prusa Connect answered HTTP 500"
    assert uploader.last_success is None
    [warning] = _records(caplog, logging.WARNING)
    assert "Prusa MK4" in warning
    assert "HTTP 500" in warning

    connect_sim.fail_500 = False
    for _ in range(21):  # the next attempt is due at tick 122
        await _tick(hass, freezer)
    assert uploader.uploads == 0
    await _tick(hass, freezer)
    assert uploader.uploads == 1
    assert _last_error(uploader) is None
    assert len([m for m in _records(caplog, logging.INFO) if "works again" in m]) == 1

    # The next outage warns again, once.
    connect_sim.fail_500 = True
    for _ in range(10):
        await _tick(hass, freezer)
    assert len(_records(caplog, logging.WARNING)) == 2


async def test_uploader_rate_limit_waits_for_retry_after(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """429 with Retry-After: 35 s waits 4 intervals, not just the back-off's 1."""
    uploader = make_uploader()
    await _tick(hass, freezer)
    connect_sim.min_interval = 45  # 10 s after the first: 429, Retry-After 35
    await _tick(hass, freezer)
    assert connect_sim.requests[-1].status == 429
    assert _last_error(uploader) is not None
    connect_sim.min_interval = 0
    attempts = []
    for tick in range(1, 6):
        before = len(connect_sim.requests)
        await _tick(hass, freezer)
        if len(connect_sim.requests) > before:
            attempts.append(tick)
    assert attempts == [4, 5]
    assert uploader.uploads == 3


async def test_uploader_network_error_is_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connect unreachable: one warning, and uploads resume when it is back."""
    uploader = make_uploader()
    await _tick(hass, freezer)
    port = connect_sim.port
    await connect_sim.stop()
    for _ in range(4):
        await _tick(hass, freezer)
    assert _last_error(uploader) is not None
    assert "Cannot reach Prusa Connect" in str(_last_error(uploader))
    assert len(_records(caplog, logging.WARNING)) == 1

    restarted = PrusaConnectSimulator(tokens={TOKEN}, port=port)
    await restarted.start()
    try:
        for _ in range(8):
            await _tick(hass, freezer)
        assert len(restarted.snapshots(TOKEN, FINGERPRINT)) >= 1
        assert _last_error(uploader) is None
        assert uploader.uploads >= 2
    finally:
        uploader.async_stop()
        await restarted.stop()


@pytest.mark.parametrize(
    ("image", "error"),
    [(None, "Unable to get image"), (b"garbage", "not a decodable picture")],
    ids=["no_image", "not_an_image"],
)
async def test_uploader_camera_errors_are_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    fake_camera: FakeCamera,
    caplog: pytest.LogCaptureFixture,
    image: bytes | None,
    error: str,
) -> None:
    """A camera without a picture warns once, backs off and recovers."""
    good = fake_camera.image
    fake_camera.image = image
    uploader = make_uploader()
    for _ in range(3):
        await _tick(hass, freezer)
    assert _last_error(uploader) is not None
    assert error in str(_last_error(uploader))
    assert connect_sim.requests == []
    [warning] = _records(caplog, logging.WARNING)
    assert error in warning

    fake_camera.image = good
    for _ in range(4):
        await _tick(hass, freezer)
    assert uploader.uploads >= 1
    assert _last_error(uploader) is None
    assert len([m for m in _records(caplog, logging.INFO) if "works again" in m]) == 1


async def test_uploader_camera_that_is_gone_raises_a_repair_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    fake_camera: FakeCamera,
) -> None:
    """The camera removed after set-up (the options still name it): a camera that
    fails may come back, one that is not in HA needs the user to pick another."""
    issue_id = camera_issue_id(ENTRY_ID)
    uploader = make_uploader()
    await fake_camera.async_remove()
    assert hass.states.get(CAMERA) is None
    for _ in range(3):  # two failed uploads (back-off 1, 2 ticks): could be start-up
        await _tick(hass, freezer)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    for _ in range(4):  # the third failure
        await _tick(hass, freezer)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "connect_camera_missing"
    assert issue.translation_placeholders == {"printer": PRINTER, "camera": CAMERA}
    assert connect_sim.requests == []

    # the camera is back (its integration loaded again): uploads, the issue goes
    await hass.data[camera.DATA_COMPONENT].async_add_entities([FakeCamera()])
    assert hass.states.get(CAMERA) is not None
    for _ in range(10):
        await _tick(hass, freezer)
    assert uploader.uploads >= 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_uploader_stop_drops_the_camera_issue(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    make_uploader: UploaderFactory,
    fake_camera: FakeCamera,
) -> None:
    """Saving other options (a reload) looks for the camera anew."""
    uploader = make_uploader()
    await fake_camera.async_remove()
    for _ in range(7):
        await _tick(hass, freezer)
    assert ir.async_get(hass).async_get_issue(DOMAIN, camera_issue_id(ENTRY_ID))
    uploader.async_stop()
    assert not ir.async_get(hass).async_get_issue(DOMAIN, camera_issue_id(ENTRY_ID))


async def test_uploader_downscales_large_pictures(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    fake_camera: FakeCamera,
) -> None:
    """A 4000x3000 camera is registered and uploaded at 1920x1440, under 1 MiB."""
    fake_camera.image = render_frame(Scene(55, "blob"), 4000, 3000)
    make_uploader()
    await _tick(hass, freezer)
    cam = connect_sim.camera(TOKEN, FINGERPRINT)
    assert cam is not None
    assert (cam.width, cam.height) == (1920, 1440)
    [snapshot] = cam.snapshots
    assert (snapshot.width, snapshot.height) == (1920, 1440)
    assert snapshot.size <= MAX_SNAPSHOT_BYTES
    assert read_scene(snapshot.jpeg) == Scene(55, "blob")


async def test_uploader_registers_again_when_resolution_changes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    fake_camera: FakeCamera,
) -> None:
    """Connect is told the new resolution when the camera's changes."""
    make_uploader()
    await _tick(hass, freezer)
    fake_camera.image = render_frame(Scene(0), 640, 480)
    await _tick(hass, freezer)
    cam = connect_sim.camera(TOKEN, FINGERPRINT)
    assert cam is not None
    assert (cam.registrations, cam.width, cam.height) == (2, 640, 480)
    assert [(s.width, s.height) for s in cam.snapshots] == [(1280, 720), (640, 480)]


async def test_uploader_never_logs_secrets(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Success, outage, recovery, re-registration and auth failure at DEBUG level."""
    caplog.set_level(logging.DEBUG)
    uploader = make_uploader()
    await _tick(hass, freezer)
    connect_sim.fail_500 = True
    await _tick(hass, freezer)
    await _tick(hass, freezer)
    connect_sim.fail_500 = False
    for _ in range(3):
        await _tick(hass, freezer)
    connect_sim.forget_registrations()
    await _tick(hass, freezer)
    connect_sim.force_status = 401
    await _tick(hass, freezer)
    assert uploader.auth_failed
    assert uploader.uploads >= 2
    assert {
        logging.DEBUG,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
    } <= {r.levelno for r in caplog.records if r.name.startswith(LOGGER_NAME)}
    assert TOKEN not in caplog.text
    assert FINGERPRINT not in caplog.text
    assert FINGERPRINT[:16] not in caplog.text


async def test_uploader_stop_leaves_no_timer_or_task(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """Stop cancels the timer and an upload hanging at Connect; nothing runs after."""
    uploader = make_uploader()
    assert _running(uploader)
    assert len(_upload_timers(hass)) == 1
    uploader.async_start()  # starting twice keeps one timer
    assert len(_upload_timers(hass)) == 1

    connect_sim.set_hang(True)
    freezer.tick(timedelta(seconds=INTERVAL))
    async_fire_time_changed(hass)
    for _ in range(100_000):  # time is frozen: spin the loop until Connect holds it
        if connect_sim.held:
            break
        await asyncio.sleep(0)
    assert connect_sim.held == 1
    task = uploader._task
    assert task is not None
    assert not task.done()
    # a tick while the upload hangs does not start a second one
    freezer.tick(timedelta(seconds=INTERVAL))
    async_fire_time_changed(hass)
    assert uploader._task is task

    uploader.async_stop()
    uploader.async_stop()  # idempotent
    assert not _running(uploader)
    assert _upload_timers(hass) == []
    await hass.async_block_till_done(wait_background_tasks=True)
    assert task.cancelled()

    connect_sim.set_hang(False)
    for _ in range(3):
        await _tick(hass, freezer)
    assert connect_sim.snapshots(TOKEN, FINGERPRINT) == []
    assert uploader.uploads == 0


async def test_uploader_start_returns_stop_for_unload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim: PrusaConnectSimulator,
    make_uploader: UploaderFactory,
) -> None:
    """`async_start` returns the stop callback, for entry.async_on_unload."""
    uploader = make_uploader()
    stop = uploader.async_start()
    stop()
    assert _upload_timers(hass) == []
    await _tick(hass, freezer)
    assert connect_sim.requests == []
