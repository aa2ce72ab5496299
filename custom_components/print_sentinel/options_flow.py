"""Options flow: polling, camera, failure detection and Prusa Connect upload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from functools import partial
import io
import math
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from PIL import Image, UnidentifiedImageError
import probatio as vol
import yarl

from .camera import MAX_SNAPSHOT_BYTES, SNAPSHOT_TIMEOUT
from .const import (
    ACTION_CANCEL,
    ACTION_NONE,
    ACTION_NOTIFY,
    ACTION_PAUSE,
    CONF_CHECK_INTERVAL,
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_FRAME_COUNT,
    CONF_FRAME_LONG_SIDE,
    CONF_IDLE_INTERVAL,
    CONF_POLICY,
    CONF_PRINTING_INTERVAL,
    CONF_RESUME_GRACE,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_CONNECT_INTERVAL,
    DEFAULT_FAILURE_ACTION,
    DEFAULT_FRAME_COUNT,
    DEFAULT_IDLE_INTERVAL,
    DEFAULT_POLICY,
    DEFAULT_PRINTING_INTERVAL,
    DEFAULT_RESUME_GRACE,
    DEFAULT_SENSITIVITY,
    DEFAULT_WARNING_ACTION,
    DETECTOR_NONE,
    FRAME_LONG_SIDES,
    MIN_CONNECT_INTERVAL,
)
from .detection.policy import POLICIES
from .detection.registry import (
    PASSWORD,
    DetectorType,
    detector_keys,
    detector_types,
    dropdown,
    get_detector_type,
)
from .detection.setup import HEADER_TOKEN, async_validate_detector, detector_form_errors
from .prusa_connect import generate_fingerprint
from .records.options import RECORDS_SCHEMA
from .validation import normalize_url

SENSITIVITIES = ("low", "medium", "high")


class _PerDetector[T](Mapping[str, T]):
    """Detector key -> something of its registered `DetectorType`, read on use."""

    def __init__(self, value: Callable[[DetectorType], T]) -> None:
        self._value = value

    def __getitem__(self, key: str) -> T:
        if (detector_type := get_detector_type(key)) is None:
            raise KeyError(key)
        return self._value(detector_type)

    def __iter__(self) -> Iterator[str]:
        return iter(detector_keys())

    def __len__(self) -> int:
        return len(detector_keys())


DESCRIPTION_PLACEHOLDERS: Mapping[str, Mapping[str, str]] = _PerDetector(
    lambda t: t.description_placeholders
)
"""URLs the detector steps show: hassfest allows no URL in strings.json."""


def _seconds(minimum: int, maximum: int) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


POLLING_SCHEMA = vol.Schema(
    {
        vol.Required(
            CONF_PRINTING_INTERVAL, default=DEFAULT_PRINTING_INTERVAL
        ): _seconds(2, 120),
        vol.Required(CONF_IDLE_INTERVAL, default=DEFAULT_IDLE_INTERVAL): _seconds(
            5, 600
        ),
        vol.Optional(CONF_SNAPSHOT_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
    }
)


_DETECTION_FIELDS: dict[Any, Any] = {
    vol.Optional(CONF_DETECTION_CAMERA): selector.EntitySelector(
        selector.EntitySelectorConfig(domain="camera")
    ),
    vol.Required(CONF_CHECK_INTERVAL, default=DEFAULT_CHECK_INTERVAL): _seconds(
        10, 3600
    ),
    vol.Required(
        CONF_FRAME_COUNT, default=DEFAULT_FRAME_COUNT
    ): selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1, max=6, step=1, mode=selector.NumberSelectorMode.BOX
        )
    ),
    vol.Required(CONF_SENSITIVITY, default=DEFAULT_SENSITIVITY): dropdown(
        SENSITIVITIES, CONF_SENSITIVITY
    ),
    vol.Required(CONF_POLICY, default=DEFAULT_POLICY): dropdown(POLICIES, CONF_POLICY),
    vol.Required(CONF_FAILURE_ACTION, default=DEFAULT_FAILURE_ACTION): dropdown(
        (ACTION_NOTIFY, ACTION_PAUSE, ACTION_CANCEL), CONF_FAILURE_ACTION
    ),
    vol.Required(CONF_WARNING_ACTION, default=DEFAULT_WARNING_ACTION): dropdown(
        (ACTION_NONE, ACTION_NOTIFY), CONF_WARNING_ACTION
    ),
    vol.Required(CONF_RESUME_GRACE, default=DEFAULT_RESUME_GRACE): _seconds(0, 3600),
    vol.Optional(CONF_FRAME_LONG_SIDE): selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=[str(side) for side in FRAME_LONG_SIDES],
            mode=selector.SelectSelectorMode.DROPDOWN,
        )
    ),
}
"""The `detection` step's fields after the detector select."""


def detection_schema() -> vol.Schema:
    """The `detection` step's fields; the select offers every registered detector."""
    return vol.Schema(
        {
            vol.Required(CONF_DETECTOR, default=DETECTOR_NONE): dropdown(
                (DETECTOR_NONE, *detector_keys()), CONF_DETECTOR
            ),
            **_DETECTION_FIELDS,
        }
    )


DETECTION_SCHEMA = detection_schema()
"""The `detection` step with the built-in detectors (the flow builds it anew)."""

DETECTOR_SCHEMAS: Mapping[str, vol.Schema] = _PerDetector(lambda t: t.options_schema())
"""Detector key -> the fields of its `detector_<key>` step."""

CONNECT_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CONNECT_ENABLED, default=False): bool,
        vol.Optional(CONF_CONNECT_TOKEN): PASSWORD,
        vol.Optional(CONF_CONNECT_CAMERA): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="camera")
        ),
        vol.Required(CONF_CONNECT_INTERVAL, default=DEFAULT_CONNECT_INTERVAL): _seconds(
            MIN_CONNECT_INTERVAL, 3600
        ),
        vol.Required(CONF_CONNECT_ONLY_PRINTING, default=True): bool,
    }
)

_INTEGER_KEYS = (
    CONF_PRINTING_INTERVAL,
    CONF_IDLE_INTERVAL,
    CONF_CHECK_INTERVAL,
    CONF_FRAME_COUNT,
    CONF_RESUME_GRACE,
    CONF_CONNECT_INTERVAL,
)


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    """Number selectors return floats; keep whole seconds as int (rounded, not cut)."""
    return {
        key: round(value) if key in _INTEGER_KEYS and value is not None else value
        for key, value in user_input.items()
    }


def _not_numbers(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Errors for number boxes holding NaN, which passes every minimum and maximum.

    The frontend never sends one; a REST or websocket client can (`"nan"`).
    """
    return {
        key: "invalid_number"
        for key, value in user_input.items()
        if isinstance(value, float) and not math.isfinite(value)
    }


def _without(values: Mapping[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """What a form may show: its values without the secrets.

    Suggested values reach the browser.
    """
    return {k: v for k, v in values.items() if k not in secrets}


def _valid_snapshot_url(url: str) -> yarl.URL | None:
    """Return `url` parsed when it is an http(s) URL with a host and a valid port.

    The host must be an IP address or a valid (IDNA) host name, and the URL free
    of spaces and control characters.
    """
    try:
        normalize_url(url)
        parsed = yarl.URL(url.strip())
        port = parsed.port  # raises ValueError when out of range
    except ValueError, TypeError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    if port is None or not 0 < port <= 65535:
        return None
    return parsed


def _is_jpeg(data: bytes) -> bool:
    """Return True if `data` is a whole JPEG picture (Pillow checks it; no decoding)."""
    if not data.startswith(b"\xff\xd8"):
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return image.format == "JPEG"
    except UnidentifiedImageError, OSError, SyntaxError, ValueError:
        return False


async def async_validate_snapshot_url(hass: HomeAssistant, url: str) -> str | None:
    """Fetch the snapshot URL once as the camera will; return an error key or None.

    The answer is read up to the camera's limit and time-out, and must be a JPEG
    picture, which is all the camera serves.
    """
    parsed = _valid_snapshot_url(url)
    if parsed is None:
        return "invalid_url"
    session = async_get_clientsession(hass)
    data = bytearray()
    try:
        async with (
            asyncio.timeout(SNAPSHOT_TIMEOUT),
            session.get(parsed, allow_redirects=True) as response,
        ):
            if response.status >= 400:
                return "snapshot_http_error"
            async for chunk in response.content.iter_chunked(65536):
                data += chunk
                if len(data) > MAX_SNAPSHOT_BYTES:
                    return "snapshot_too_large"
    except TimeoutError, aiohttp.ClientError, ValueError:
        return "snapshot_cannot_connect"
    if not await hass.async_add_executor_job(_is_jpeg, bytes(data)):
        return "not_an_image"
    return None


class PrintSentinelOptionsFlow(OptionsFlowWithReload):
    """Change how a printer is watched. Saving reloads the entry."""

    def __init__(self) -> None:
        """Initialise the flow, with a `detector_<key>` step per registered detector.

        The flow manager calls `async_step_<step id>` (it looks the name up with
        `getattr`), so each detector's step is an attribute of the flow: made here
        from the registry, they include detectors registered since the import.
        """
        self._pending: dict[str, Any] = {}
        self._pending_remove: tuple[str, ...] = ()
        for detector_type in detector_types():
            setattr(
                self,
                f"async_step_detector_{detector_type.key}",
                partial(self._detector_step, detector_type.key),
            )

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the sections."""
        return self.async_show_menu(
            step_id="init",
            menu_options=["polling", "detection", "connect", "records"],
        )

    def _save(
        self, updates: dict[str, Any], remove: tuple[str, ...] = ()
    ) -> ConfigFlowResult:
        options = {**self.config_entry.options, **updates}
        for key in remove:
            options.pop(key, None)
        return self.async_create_entry(data=options)

    async def async_step_polling(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Polling intervals and the camera's snapshot URL."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _not_numbers(user_input)
        if user_input is not None and not errors:
            user_input = _clean(user_input)
            url = (user_input.get(CONF_SNAPSHOT_URL) or "").strip()
            if not url:
                return self._save(user_input, (CONF_SNAPSHOT_URL,))
            user_input[CONF_SNAPSHOT_URL] = url
            if error := await async_validate_snapshot_url(self.hass, url):
                errors[CONF_SNAPSHOT_URL] = error
            else:
                return self._save(user_input)
        return self.async_show_form(
            step_id="polling",
            data_schema=self.add_suggested_values_to_schema(
                POLLING_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_detection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which detector watches the camera, how often, and what to do."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _not_numbers(user_input)
        if user_input is not None and not errors:
            user_input = _clean(user_input)
            detector = user_input[CONF_DETECTOR]
            camera = user_input.get(CONF_DETECTION_CAMERA)
            # an emptied optional field goes back to its default
            remove = tuple(
                key
                for key in (CONF_DETECTION_CAMERA, CONF_FRAME_LONG_SIDE)
                if not user_input.get(key)
            )
            if camera and self.hass.states.get(camera) is None:
                errors[CONF_DETECTION_CAMERA] = "camera_not_found"
            elif detector == DETECTOR_NONE:
                return self._save(user_input, remove)
            else:
                self._pending = user_input
                self._pending_remove = remove
                return await self._detector_step(detector)
        return self.async_show_form(
            step_id="detection",
            data_schema=self.add_suggested_values_to_schema(
                detection_schema(), user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def _detector_step(
        self, detector: str, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The `detector_<key>` step: the settings of the detector chosen."""
        detector_type = get_detector_type(detector)
        assert detector_type is not None  # the select offers registered ones only
        errors: dict[str, str] = {}
        if user_input is not None:
            saved = self.config_entry.options
            typed = {
                k: v
                for k, v in user_input.items()
                if v or k not in detector_type.secret_keys
            }
            kept = detector_type.kept_secrets(saved, {**self._pending, **typed})
            # a saved key not kept (its server changed) is dropped, not sent on
            dropped = tuple(
                k for k in detector_type.secret_keys if k not in typed and k not in kept
            )
            merged = {**saved, **self._pending, **typed, **kept}
            for key in dropped:
                merged.pop(key, None)
            errors = (
                _not_numbers(typed)
                or {
                    k: "key_required"
                    for k in detector_type.required
                    if k in detector_type.secret_keys and not merged.get(k)
                }
                or detector_form_errors(merged)
            )
            if not errors:
                error = await async_validate_detector(
                    self.hass, self.config_entry, merged
                )
                if error is None:
                    return self._save(
                        {**self._pending, **typed, **kept},
                        self._pending_remove + dropped,
                    )
                errors["base"] = error
        return self.async_show_form(
            step_id=f"detector_{detector}",
            data_schema=self.add_suggested_values_to_schema(
                detector_type.options_schema(),
                _without(
                    user_input or self.config_entry.options, detector_type.secret_keys
                ),
            ),
            errors=errors,
            description_placeholders=dict(detector_type.description_placeholders)
            or None,
        )

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Upload snapshots of a camera to Prusa Connect."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _not_numbers(user_input)
        if user_input is not None and not errors:
            user_input = _clean(user_input)
            # the form never shows the saved token: left empty, it is kept; a
            # typed one is checked even while uploads are off (saved for later)
            typed = (user_input.pop(CONF_CONNECT_TOKEN, None) or "").strip()
            token = typed or self.config_entry.options.get(CONF_CONNECT_TOKEN)
            if typed:
                user_input[CONF_CONNECT_TOKEN] = typed
            checked = typed or (token if user_input[CONF_CONNECT_ENABLED] else "")
            if checked and not HEADER_TOKEN.fullmatch(checked):
                errors[CONF_CONNECT_TOKEN] = "invalid_token_format"
            if user_input[CONF_CONNECT_ENABLED]:
                camera = user_input.get(CONF_CONNECT_CAMERA)
                if not token:
                    errors[CONF_CONNECT_TOKEN] = "token_required"
                if not camera:
                    errors[CONF_CONNECT_CAMERA] = "camera_required"
                elif self.hass.states.get(camera) is None:
                    errors[CONF_CONNECT_CAMERA] = "camera_not_found"
            if not errors:
                if not self.config_entry.options.get(CONF_CONNECT_FINGERPRINT):
                    user_input[CONF_CONNECT_FINGERPRINT] = generate_fingerprint()
                return self._save(user_input)
        return self.async_show_form(
            step_id="connect",
            data_schema=self.add_suggested_values_to_schema(
                CONNECT_SCHEMA,
                _without(
                    user_input or self.config_entry.options, (CONF_CONNECT_TOKEN,)
                ),
            ),
            errors=errors,
        )

    async def async_step_records(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Print records: the timelapse and how much of the disk records may take."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _not_numbers(user_input)
        if user_input is not None and not errors:
            return self._save(
                {
                    k: round(v) if isinstance(v, float) else v
                    for k, v in user_input.items()
                }
            )
        return self.async_show_form(
            step_id="records",
            data_schema=self.add_suggested_values_to_schema(
                RECORDS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )
