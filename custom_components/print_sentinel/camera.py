"""Camera: snapshots from a configured URL, else the job's thumbnail."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiohttp
from homeassistant.components.camera import Camera
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import CONF_SNAPSHOT_URL, LOGGER
from .coordinator import PrinterCoordinator
from .entity import PrintSentinelEntity
from .printers.base import Capability, PrinterError
from .runtime import PrintSentinelConfigEntry

PARALLEL_UPDATES = 1
SNAPSHOT_TIMEOUT = 10
MAX_SNAPSHOT_BYTES = 20 * 1024 * 1024
FAILURES_UNTIL_UNAVAILABLE = 3
"""Pictures in a row that failed before the camera shows as unavailable."""
RETRY_UNAVAILABLE_AFTER = timedelta(seconds=60)
"""How long an unavailable camera stays so before the frontend may try again.

Failure detection and Prusa Connect keep asking for pictures meanwhile; the first
that works makes the camera available again at once.
"""

CAMERA = EntityDescription(key="camera", translation_key="camera")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the camera."""
    async_add_entities(
        [
            PrinterCamera(
                entry.runtime_data.coordinator, entry.options.get(CONF_SNAPSHOT_URL)
            )
        ]
    )


class PrinterCamera(PrintSentinelEntity, Camera):
    """The printer's camera: a snapshot URL (ESP32, go2rtc, ...) or the job thumbnail."""

    def __init__(
        self, coordinator: PrinterCoordinator, snapshot_url: str | None
    ) -> None:
        """Initialise with the user's snapshot URL, if any."""
        PrintSentinelEntity.__init__(self, coordinator, CAMERA)
        Camera.__init__(self)
        self._snapshot_url = snapshot_url or None
        self._failing = False
        self._failures = 0
        self._last_failure: datetime | None = None
        self._thumbnail_job: object = None
        self._thumbnail: bytes | None = None
        self._last_picture: bytes | None = None
        """The camera's last picture (not a thumbnail), for the frontend meanwhile."""
        self.content_type = "image/jpeg" if self._snapshot_url else "image/png"

    @property
    def available(self) -> bool:
        """A snapshot camera works while the printer is offline; a thumbnail does not.

        Either turns unavailable after `FAILURES_UNTIL_UNAVAILABLE` failed pictures
        in a row, for `RETRY_UNAVAILABLE_AFTER` after the last failure.
        """
        if not (self._snapshot_url or super().available):
            return False
        if not self._has_picture():
            return False  # the frontend would ask for a picture that cannot exist
        return not self._unavailable_after_failures()

    def _has_picture(self) -> bool:
        """Whether there is anything to show: a snapshot URL, a camera or a job.

        Without one the camera is off and has no picture, so the frontend shows its
        icon instead of asking for an image that cannot exist.
        """
        if (
            self._snapshot_url
            or Capability.CAMERA in self.coordinator.backend.capabilities
        ):
            return True
        data = self.coordinator.data
        return data is not None and data.job is not None

    @property
    def is_on(self) -> bool:
        """On while there is a picture to show and a way to get it.

        HA's camera proxy asks even an unavailable camera for a picture and answers
        HTTP 500 when there is none; off, it answers 503 without asking. A
        thumbnail or a server's webcam needs the printer, so it is off while the
        printer is unreachable. A camera whose source fails shows its last picture;
        without one it is off until `RETRY_UNAVAILABLE_AFTER` has passed (then the
        proxy may try once more). Detection, Prusa Connect and records ask the
        source itself (`async_fresh_image`, also while off), so the first picture
        that works turns it on and available again at once.
        """
        if not self._has_picture():
            return False
        if not (self._snapshot_url or self.coordinator.last_update_success):
            return False
        return not (self._last_picture is None and self._recently_failed())

    @property
    def entity_picture(self) -> str | None:  # type: ignore[override]  # Entity allows None
        """The picture's URL, None while there is nothing to show."""
        return super().entity_picture if self._has_picture() else None

    def _unavailable_after_failures(self) -> bool:
        return self._failures >= FAILURES_UNTIL_UNAVAILABLE and self._recently_failed()

    def _recently_failed(self) -> bool:
        return (
            self._last_failure is not None
            and dt_util.utcnow() - self._last_failure < RETRY_UNAVAILABLE_AFTER
        )

    def _write_state_if_added(self) -> None:
        if self.hass is not None and self.entity_id:
            self.async_write_ha_state()

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the newest image; its last one while its source fails.

        The frontend (HA's camera proxy) would show an HTTP 500 instead; the camera
        shows as unavailable after `FAILURES_UNTIL_UNAVAILABLE` failures.
        """
        if (image := await self.async_fresh_image()) is not None:
            return image
        if self._failing and self._last_picture is not None:
            self.content_type = "image/jpeg"
            return self._last_picture
        return None

    async def async_fresh_image(self) -> bytes | None:
        """A picture taken now, None when there is none (`pictures`)."""
        if self._snapshot_url:
            image = await self._async_snapshot(self._snapshot_url)
        else:
            try:
                image = await self.coordinator.backend.async_get_camera_image()
            except PrinterError as err:
                self._report_failure(err)
                return None
            if image is None:
                self.content_type = "image/png"
                return await self._async_thumbnail()
            self._report_recovery()
        if image is not None:
            self.content_type = "image/jpeg"
            self._last_picture = image
        return image

    def _report_failure(self, err: object) -> None:
        was_unavailable = self._unavailable_after_failures()
        was_on = self.is_on
        self._failures += 1
        self._last_failure = dt_util.utcnow()
        if was_on != self.is_on or (
            not was_unavailable and self._unavailable_after_failures()
        ):
            self._write_state_if_added()
        if not self._failing:
            LOGGER.warning(
                "Camera snapshot of %s failed: %s", self.coordinator.identity.name, err
            )
            self._failing = True

    def _report_recovery(self) -> None:
        was_unavailable = self._unavailable_after_failures()
        was_on = self.is_on
        self._failures = 0
        self._last_failure = None
        if was_unavailable or not was_on:
            self._write_state_if_added()
        if self._failing:
            LOGGER.info(
                "Camera snapshot of %s works again", self.coordinator.identity.name
            )
            self._failing = False

    async def _async_snapshot(self, url: str) -> bytes | None:
        session = async_get_clientsession(self.hass)
        try:
            async with asyncio.timeout(SNAPSHOT_TIMEOUT), session.get(url) as response:
                response.raise_for_status()
                data = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    data += chunk
                    if len(data) > MAX_SNAPSHOT_BYTES:
                        break
        except aiohttp.ClientResponseError as err:
            # its text carries the URL, whose query may hold a token
            self._report_failure(f"HTTP {err.status}")
            return None
        except TimeoutError:
            self._report_failure(f"no answer within {SNAPSHOT_TIMEOUT} s")
            return None
        except aiohttp.ClientError as err:
            self._report_failure(type(err).__name__)
            return None
        if len(data) > MAX_SNAPSHOT_BYTES:
            self._report_failure("the picture is too large")
            return None
        if not data.startswith(b"\xff\xd8"):
            self._report_failure("the answer is not a JPEG image")
            return None
        self._report_recovery()
        return bytes(data)

    async def _async_thumbnail(self) -> bytes | None:
        job = self.coordinator.data.job if self.coordinator.data else None
        if job is None:
            return None
        if self._thumbnail_job != job.id:
            try:
                self._thumbnail = await self.coordinator.backend.async_get_thumbnail()
            except PrinterError as err:
                LOGGER.debug("No thumbnail: %s", err)
                return None
            self._thumbnail_job = job.id
        return self._thumbnail
