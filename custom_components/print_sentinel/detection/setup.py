"""Build the configured detector from a config entry's options, and validate it.

Nothing here names a detector: each one's needs are its `DetectorType` in
`registry.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import CONF_DETECTOR, DETECTOR_NONE, LOGGER
from .registry import DetectorType, get_detector_type
from .verdict import (
    Detector,
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorRateLimited,
    DetectorUnavailable,
)

HEADER_TOKEN: Final = re.compile(r"[\x21-\x7e]{1,1024}")
"""An API key or token is one line of printable ASCII without spaces (it goes in a
header)."""


class DetectorNotConfigured(Exception):
    """The options lack what this detector needs (e.g. its API key)."""


def _form_errors(
    detector_type: DetectorType, resolved: Mapping[str, Any]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field in detector_type.secret_keys:
        key = resolved.get(field)
        if key and (not isinstance(key, str) or not HEADER_TOKEN.fullmatch(key)):
            errors[field] = "invalid_key_format"
    if detector_type.form_errors is not None:
        errors.update(detector_type.form_errors(resolved))
    return errors


def detector_form_errors(options: Mapping[str, Any]) -> dict[str, str]:
    """Check what the user typed for the detector, before any call; field -> error.

    A key with a newline or a space would only fail as "cannot connect"; the
    detector's own `form_errors` catch the rest (e.g. a base URL that is not an
    http(s) URL, which would fail inside the SDK).
    """
    detector_type = get_detector_type(options.get(CONF_DETECTOR, DETECTOR_NONE))
    if detector_type is None:
        return {}
    return _form_errors(detector_type, detector_type.resolve(options))


def build_detector(
    hass: HomeAssistant,
    entry: ConfigEntry,
    options: Mapping[str, Any],
    camera_entity_id: str,
    detector: str | None = None,
) -> Detector | None:
    """Return the detector `options` configure (or `detector`, overriding), or None."""
    name = detector or options.get(CONF_DETECTOR, DETECTOR_NONE)
    if name == DETECTOR_NONE:
        return None
    if (detector_type := get_detector_type(name)) is None:
        raise DetectorNotConfigured(name)
    resolved = detector_type.resolve(options)
    if any(not resolved.get(key) for key in detector_type.required) or _form_errors(
        detector_type, resolved
    ):
        raise DetectorNotConfigured(name)
    return detector_type.build(hass, entry, resolved, camera_entity_id)


async def async_validate_detector(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any]
) -> str | None:
    """Check the detector's settings with one cheap call; return an error key or None."""
    name = options.get(CONF_DETECTOR, DETECTOR_NONE)
    detector_type = get_detector_type(name)
    if detector_type is not None and detector_type.check is not None:
        return detector_type.check(hass, detector_type.resolve(options))
    try:
        detector = build_detector(hass, entry, options, camera_entity_id="")
    except DetectorNotConfigured:
        return "invalid_api_key"
    validate = getattr(detector, "async_validate", None)
    if validate is None:
        return None  # e.g. PrintWatch has no free endpoint to check a key with
    try:
        await validate()
    except DetectorAuthError:
        return "invalid_api_key"
    except DetectorUnavailable, DetectorRateLimited:
        return "cannot_connect"
    except DetectorBadResponse:
        return "bad_response"
    except DetectorError as err:
        LOGGER.error("Unexpected error validating the %s detector: %s", name, err)
        return "unknown"
    except Exception as err:  # noqa: BLE001 - a form shows "unknown", never an HTTP 500
        # only the type: a foreign message may quote a URL or a header
        LOGGER.error(
            "Unexpected error validating the %s detector (%s)", name, type(err).__name__
        )
        return "unknown"
    return None
