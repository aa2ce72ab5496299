"""Upload camera snapshots to Prusa Connect.

Prusa Connect shows a camera next to each printer when something uploads JPEG
snapshots to it. "Add other camera" in Connect gives a camera *token*; the uploader
makes up a *fingerprint* once (kept in the options) that names this camera to
Connect. Three layers, each usable alone:

- `PrusaConnectClient`: the two HTTP calls (`PUT /c/info`, `PUT /c/snapshot`), with
  every status mapped to a typed error. No Home Assistant imports are needed by it.
- `prepare_snapshot`: a blocking Pillow helper that makes any camera image a JPEG
  Connect accepts (run it in the executor).
- `PrusaConnectUploader`: the Home Assistant side. An interval timer takes a picture
  from a camera entity, registers the camera once (and again when Connect asks),
  uploads, backs off through outages, and raises a repair issue when the token stops
  working.

The token and the fingerprint are secrets: they are sent as headers and nowhere else;
no log line or exception message contains them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
import io
import json
import math
import secrets
from typing import Final

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from PIL import Image, ImageOps

from .const import DEFAULT_CONNECT_URL, DOMAIN, LOGGER, MIN_CONNECT_INTERVAL
from .pictures import async_fresh_picture

FINGERPRINT_MIN_LENGTH: Final = 16
FINGERPRINT_MAX_LENGTH: Final = 64
MAX_SNAPSHOT_BYTES: Final = 1024 * 1024
"""Snapshots larger than this are downscaled/re-encoded (Connect's limit is far above)."""
MAX_SNAPSHOT_SIDE: Final = 1920
"""Snapshots with a longer side than this are downscaled."""
MAX_BACKOFF: Final = timedelta(minutes=5)
MAX_RETRY_AFTER: Final = timedelta(hours=1)
"""The longest wait a Retry-After is followed for (it may ask for more than the
back-off's cap; a longer one is a server's mistake)."""
_ORIENTATION: Final = 0x0112
"""The EXIF tag of how a picture is to be turned for viewing."""
"""Longest wait between two attempts during an outage."""
REQUEST_TIMEOUT: Final = 30.0
"""Seconds one request to Connect may take."""
CAMERA_TIMEOUT: Final = 10
"""Seconds the camera entity may take to produce a picture."""

_JPEG_QUALITIES: Final = (85, 75, 65, 50)
_SUCCESS: Final = frozenset({200, 204})


class ConnectError(Exception):
    """Prusa Connect could not be reached or answered unexpectedly (network, 5xx).

    The base class of every error this module raises.
    """


class ConnectAuthError(ConnectError):
    """Prusa Connect rejected the camera token (HTTP 401/403)."""


class ConnectRateLimited(ConnectError):
    """Snapshots are sent faster than Prusa Connect accepts (HTTP 429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the server's Retry-After (seconds), if it sent one."""
        super().__init__(message)
        self.retry_after = retry_after


class ConnectNeedsRegistration(ConnectError):
    """Prusa Connect does not know this camera (yet): call `async_register` again."""


def generate_fingerprint() -> str:
    """Make up a camera fingerprint: 64 hex characters, as Prusa's own SDK does."""
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def _retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header given in seconds (dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class PrusaConnectClient:
    """The Prusa Connect camera API, for one camera (token + fingerprint)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        fingerprint: str,
        base_url: str = DEFAULT_CONNECT_URL,
        *,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Prepare a client; nothing is sent until a method is called.

        Raises ValueError when the token is empty or the fingerprint is not 16-64
        characters long (the message never contains either).
        """
        if not token:
            raise ValueError("The Prusa Connect camera token is empty")
        if not FINGERPRINT_MIN_LENGTH <= len(fingerprint) <= FINGERPRINT_MAX_LENGTH:
            raise ValueError(
                "The Prusa Connect camera fingerprint must be "
                f"{FINGERPRINT_MIN_LENGTH}-{FINGERPRINT_MAX_LENGTH} characters long"
            )
        self._session = session
        self._token = token
        self._fingerprint = fingerprint
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        """Describe the client without its secrets."""
        return f"PrusaConnectClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        """The Connect server this client talks to."""
        return self._base_url

    async def async_register(self, name: str, width: int, height: int) -> None:
        """Tell Connect this camera's name and resolution (`PUT /c/info`).

        Raises ConnectAuthError, ConnectRateLimited or ConnectError.
        """
        body = json.dumps(
            {"config": {"name": name, "resolution": {"width": width, "height": height}}}
        ).encode()
        status, retry_after = await self._async_put("/c/info", body, "application/json")
        if status == 400:
            raise ConnectError(
                "Prusa Connect rejected the camera registration (HTTP 400)"
            )
        self._check_status(status, retry_after)

    async def async_upload(self, jpeg: bytes) -> None:
        """Upload one JPEG snapshot (`PUT /c/snapshot`).

        Raises ConnectNeedsRegistration (HTTP 400: register again), ConnectAuthError,
        ConnectRateLimited or ConnectError.
        """
        status, retry_after = await self._async_put("/c/snapshot", jpeg, "image/jpg")
        if status == 400:
            raise ConnectNeedsRegistration(
                "Prusa Connect does not accept snapshots from this camera until it "
                "is registered again (HTTP 400)"
            )
        self._check_status(status, retry_after)

    async def _async_put(
        self, path: str, body: bytes, content_type: str
    ) -> tuple[int, float | None]:
        """Send one PUT; return the status and any Retry-After seconds."""
        headers = {
            "Token": self._token,
            "Fingerprint": self._fingerprint,
            "Content-Type": content_type,
        }
        try:
            async with self._session.put(
                f"{self._base_url}{path}",
                data=body,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                await response.read()
                return response.status, _retry_after(
                    response.headers.get("Retry-After")
                )
        except TimeoutError as err:
            raise ConnectError("Timed out talking to Prusa Connect") from err
        except aiohttp.ClientError as err:
            raise ConnectError(
                f"Cannot reach Prusa Connect ({type(err).__name__})"
            ) from err

    @staticmethod
    def _check_status(status: int, retry_after: float | None) -> None:
        """Raise the error that matches a non-success status."""
        if status in _SUCCESS:
            return
        if status in (401, 403):
            raise ConnectAuthError(
                f"Prusa Connect rejected the camera token (HTTP {status})"
            )
        if status == 429:
            raise ConnectRateLimited(
                "Prusa Connect asks to send snapshots less often (HTTP 429)",
                retry_after,
            )
        if status == 413:
            raise ConnectError("Prusa Connect refused a too large snapshot (HTTP 413)")
        raise ConnectError(f"Prusa Connect answered HTTP {status}")


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    """Encode an RGB image as a JPEG."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def prepare_snapshot(image: bytes) -> tuple[bytes, int, int]:
    """Make a camera image fit for Connect; return the JPEG, its width and height.

    A JPEG of at most 1 MiB and 1920 px a side is returned as it is. Anything larger,
    and any other image format, is downscaled to fit 1920x1920 and re-encoded as a
    JPEG of at most 1 MiB. Blocking (Pillow): run it in the executor.

    Raises ValueError when the bytes are not a decodable image.
    """
    try:
        with Image.open(io.BytesIO(image)) as img:
            if (
                img.format == "JPEG"
                and len(image) <= MAX_SNAPSHOT_BYTES
                and max(img.size) <= MAX_SNAPSHOT_SIDE
                and img.getexif().get(_ORIENTATION, 1) == 1
            ):
                img.load()  # refuse truncated or corrupt JPEGs here, not at Connect
                return image, img.width, img.height
            # JPEG only: let the decoder skip detail we would throw away anyway
            img.draft("RGB", (MAX_SNAPSHOT_SIDE, MAX_SNAPSHOT_SIDE))
            # turned as the camera says (the EXIF orientation is not re-encoded),
            # so a picture is the same way up whatever its size
            rgb = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError("The camera image is not a decodable picture") from err
    rgb.thumbnail((MAX_SNAPSHOT_SIDE, MAX_SNAPSHOT_SIDE), Image.Resampling.LANCZOS)
    while True:
        for quality in _JPEG_QUALITIES:
            data = _encode_jpeg(rgb, quality)
            if len(data) <= MAX_SNAPSHOT_BYTES:
                return data, rgb.width, rgb.height
        if min(rgb.size) <= 16:  # pragma: no cover - needs a pathological image
            return data, rgb.width, rgb.height
        rgb = rgb.resize(
            (max(1, rgb.width * 3 // 4), max(1, rgb.height * 3 // 4)),
            Image.Resampling.LANCZOS,
        )


def auth_issue_id(entry_id: str) -> str:
    """Return the repair issue id raised when Connect rejects an entry's token."""
    return f"connect_auth_{entry_id}"


def camera_issue_id(entry_id: str) -> str:
    """Return the repair issue id raised when an entry's upload camera is gone."""
    return f"connect_camera_{entry_id}"


CAMERA_GONE_FAILURES: Final = 3
"""Failed uploads in a row without the camera entity before a repair issue asks the
user (at start-up another integration's camera may not be loaded yet)."""


@dataclass(slots=True)
class _Snapshot:
    """A prepared snapshot."""

    jpeg: bytes
    width: int
    height: int


class PrusaConnectUploader:
    """Upload a camera entity's snapshots to Prusa Connect on an interval.

    Call `async_start` once (it returns the matching stop, for
    `entry.async_on_unload`). After Connect rejects the token, uploading stops until
    a new uploader is started (the entry is reloaded, e.g. after the options
    changed); the repair issue it raised goes with that reload, and comes back if
    the token is still refused.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        client: PrusaConnectClient,
        camera_entity_id: str,
        interval: float,
        only_printing: bool,
        is_printing: Callable[[], bool],
        camera_name: str,
    ) -> None:
        """Prepare the uploader; nothing happens before `async_start`."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._camera_entity_id = camera_entity_id
        self.interval = timedelta(seconds=max(interval, MIN_CONNECT_INTERVAL))
        self._only_printing = only_printing
        self._is_printing = is_printing
        self._camera_name = camera_name
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._registered: tuple[int, int] | None = None
        """The resolution Connect was last told, None when it must be told."""
        self._registered_since_success = False
        """True when the camera was registered after the last successful upload."""
        self._failures = 0
        self._skip_ticks = 0
        self._outage = False
        self._camera_missing = 0
        """Failed uploads in a row that found no camera entity (deleted, renamed)."""
        self.auth_failed = False
        """True once Connect rejected the token; nothing is uploaded after that."""
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self.uploads = 0

    @property
    def running(self) -> bool:
        """Return True while the interval timer is active."""
        return self._unsub_timer is not None

    @property
    def _printer(self) -> str:
        """The printer's name, for logs and the repair issue."""
        return self._entry.title

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Start the interval timer; return `async_stop`."""
        if self._unsub_timer is None and not self.auth_failed:
            self._unsub_timer = async_track_time_interval(
                self._hass,
                self._async_tick,
                self.interval,
                name=f"{DOMAIN} Prusa Connect upload {self._entry.entry_id}",
            )
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop the timer and cancel an upload in progress. Safe to call twice."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        # set up again (options saved, reload), the camera is looked for anew
        ir.async_delete_issue(self._hass, DOMAIN, camera_issue_id(self._entry.entry_id))

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update_callback` whenever the status changes; return the remover."""
        self._listeners.append(update_callback)

        @callback
        def remove_listener() -> None:
            if update_callback in self._listeners:
                self._listeners.remove(update_callback)

        return remove_listener

    @callback
    def _async_notify(self) -> None:
        """Tell every listener the status changed."""
        for update_callback in list(self._listeners):
            update_callback()

    @callback
    def _async_tick(self, _now: datetime) -> None:
        """Run one upload cycle in the background, unless one is still running."""
        if self._task is not None and not self._task.done():
            LOGGER.debug(
                "Previous Prusa Connect upload for %s still running; skipping",
                self._printer,
            )
            return
        self._task = self._entry.async_create_background_task(
            self._hass,
            self.async_upload_once(),
            name=f"{DOMAIN} Prusa Connect upload {self._entry.entry_id}",
        )

    async def async_upload_once(self) -> None:
        """Run one cycle: maybe skip, take a picture, register if needed, upload.

        Never raises: every failure is recorded in `last_error` and handled.
        """
        if self.auth_failed:
            return
        if self._only_printing and not self._is_printing():
            # the back-off of an outage at the last print's end is not the next's
            self._skip_ticks = 0
            self._failures = 0
            return
        if self._skip_ticks > 0:
            self._skip_ticks -= 1
            return
        try:
            snapshot = await self._async_snapshot()
            if self._registered != (snapshot.width, snapshot.height):
                await self._async_register(snapshot)
            try:
                await self._client.async_upload(snapshot.jpeg)
            except ConnectNeedsRegistration:
                self._registered = None
                if self._registered_since_success:
                    raise  # registering did not help: an outage like any other
                LOGGER.info(
                    "Prusa Connect asked to register the camera of %s again",
                    self._printer,
                )
                await self._async_register(snapshot)
                return  # the next cycle uploads
        except ConnectAuthError as err:
            self._async_auth_failed(err)
        except (ConnectError, HomeAssistantError, ValueError) as err:
            self._async_failed(err)
        else:
            self._async_succeeded()

    async def _async_snapshot(self) -> _Snapshot:
        """Take a picture from the camera entity and make it fit for Connect."""
        image = await async_fresh_picture(
            self._hass, self._camera_entity_id, within=CAMERA_TIMEOUT
        )
        jpeg, width, height = await self._hass.async_add_executor_job(
            prepare_snapshot, image
        )
        return _Snapshot(jpeg, width, height)

    async def _async_register(self, snapshot: _Snapshot) -> None:
        """Register the camera's name and the snapshot's resolution."""
        await self._client.async_register(
            self._camera_name, snapshot.width, snapshot.height
        )
        self._registered = (snapshot.width, snapshot.height)
        self._registered_since_success = True
        LOGGER.debug(
            "Registered the camera of %s with Prusa Connect (%sx%s)",
            self._printer,
            snapshot.width,
            snapshot.height,
        )

    @callback
    def _async_succeeded(self) -> None:
        """Record an upload, end any outage and drop the auth repair issue."""
        if self._outage:
            LOGGER.info(
                "Prusa Connect snapshot upload for %s works again", self._printer
            )
        self._outage = False
        self._failures = 0
        self._skip_ticks = 0
        self._registered_since_success = False
        self.uploads += 1
        self.last_success = dt_util.utcnow()
        self.last_error = None
        self._camera_missing = 0
        ir.async_delete_issue(self._hass, DOMAIN, auth_issue_id(self._entry.entry_id))
        ir.async_delete_issue(self._hass, DOMAIN, camera_issue_id(self._entry.entry_id))
        self._async_notify()

    @callback
    def _async_failed(self, err: Exception) -> None:
        """Back off exponentially; warn once per outage."""
        self._failures += 1
        max_ticks = max(1, math.ceil(MAX_BACKOFF / self.interval))
        ticks = min(2 ** min(self._failures - 1, 16), max_ticks)
        if isinstance(err, ConnectRateLimited) and err.retry_after is not None:
            # the wait Connect asks for, also beyond the back-off's cap
            wait = min(err.retry_after, MAX_RETRY_AFTER.total_seconds())
            ticks = max(ticks, math.ceil(wait / self.interval.total_seconds()))
        self._skip_ticks = ticks - 1
        message = str(err) or type(err).__name__
        if not self._outage:
            self._outage = True
            LOGGER.warning(
                "Prusa Connect snapshot upload for %s failed: %s; retrying with "
                "back-off (up to every %s)",
                self._printer,
                message,
                MAX_BACKOFF,
            )
        else:
            LOGGER.debug(
                "Prusa Connect snapshot upload for %s failed again: %s; next try in %s",
                self._printer,
                message,
                self.interval * ticks,
            )
        self.last_error = message
        self._camera_gone_check()
        self._async_notify()

    @callback
    def _camera_gone_check(self) -> None:
        """Raise a repair issue once the camera entity stays missing for a while.

        A camera that fails is an outage (it may come back); one that is not in
        Home Assistant at all needs the user to pick another.
        """
        if self._hass.states.get(self._camera_entity_id) is not None:
            if self._camera_missing >= CAMERA_GONE_FAILURES:  # it is back
                ir.async_delete_issue(
                    self._hass, DOMAIN, camera_issue_id(self._entry.entry_id)
                )
            self._camera_missing = 0
            return
        self._camera_missing += 1
        if self._camera_missing == CAMERA_GONE_FAILURES:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                camera_issue_id(self._entry.entry_id),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="connect_camera_missing",
                translation_placeholders={
                    "printer": self._printer,
                    "camera": self._camera_entity_id,
                },
            )

    @callback
    def _async_auth_failed(self, err: ConnectAuthError) -> None:
        """Raise the repair issue and stop until the entry is reloaded."""
        LOGGER.error(
            "%s for %s; Prusa Connect snapshot upload stopped until the camera "
            "token is fixed in the options",
            err,
            self._printer,
        )
        self.auth_failed = True
        self.last_error = str(err)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            auth_issue_id(self._entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="connect_auth_failed",
            translation_placeholders={"printer": self._printer},
        )
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        self._async_notify()
