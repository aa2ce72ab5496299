"""Build the configured detector from a config entry's options, and validate it."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import get_async_client

from ..const import (
    CONF_AI_TASK_ENTITY,
    CONF_DETECTOR,
    CONF_GADGET_API_KEY,
    CONF_GADGET_PAUSE_LEVEL,
    CONF_GADGET_URL,
    CONF_GADGET_WARNING_LEVEL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_DETAIL,
    CONF_OPENAI_MODEL,
    CONF_PRINTWATCH_API_KEY,
    CONF_PRINTWATCH_URL,
    DEFAULT_GADGET_LEVEL,
    DEFAULT_GADGET_URL,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_DETAIL,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_PRINTWATCH_URL,
    DETECTOR_AI_TASK,
    DETECTOR_GADGET,
    DETECTOR_NONE,
    DETECTOR_OPENAI,
    DETECTOR_PRINTWATCH,
    DOMAIN,
    LOGGER,
)
from ..printers.base import PrinterSnapshot
from .detectors.ai_task import AITaskDetector
from .detectors.gadget import GadgetDetector
from .detectors.openai_compat import OpenAIDetector, valid_base_url
from .detectors.printwatch import PrintWatchDetector
from .verdict import (
    Detector,
    DetectorAuthError,
    DetectorBadResponse,
    DetectorError,
    DetectorRateLimited,
    DetectorUnavailable,
)

_API_KEY: Final = re.compile(r"[\x21-\x7e]{1,1024}")
"""An API key is one line of printable ASCII without spaces (it goes in a header)."""
_KEY_FIELDS: Final = {
    DETECTOR_OPENAI: CONF_OPENAI_API_KEY,
    DETECTOR_GADGET: CONF_GADGET_API_KEY,
    DETECTOR_PRINTWATCH: CONF_PRINTWATCH_API_KEY,
}


class DetectorNotConfigured(Exception):
    """The options lack what this detector needs (e.g. its API key)."""


def detector_form_errors(options: Mapping[str, Any]) -> dict[str, str]:
    """Check what the user typed for the detector, before any call; field -> error.

    A key with a newline or a space would only fail as "cannot connect"; a base
    URL that is not an http(s) URL would fail inside the SDK.
    """
    name = options.get(CONF_DETECTOR, DETECTOR_NONE)
    errors: dict[str, str] = {}
    if (field := _KEY_FIELDS.get(name)) is not None:
        key = options.get(field)
        if key and (not isinstance(key, str) or not _API_KEY.fullmatch(key)):
            errors[field] = "invalid_key_format"
    if name == DETECTOR_OPENAI:
        url = options.get(CONF_OPENAI_BASE_URL) or DEFAULT_OPENAI_BASE_URL
        if not isinstance(url, str) or not valid_base_url(url):
            errors[CONF_OPENAI_BASE_URL] = "invalid_base_url"
    return errors


def _printer_snapshot(entry: ConfigEntry) -> PrinterSnapshot | None:
    """The printer's latest poll, once the entry runs (not in an options check)."""
    runtime = getattr(entry, "runtime_data", None)
    coordinator = getattr(runtime, "coordinator", None)
    data = getattr(coordinator, "data", None)
    return data if isinstance(data, PrinterSnapshot) else None


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
    if name == DETECTOR_OPENAI:
        if detector_form_errors({**options, CONF_DETECTOR: name}):
            raise DetectorNotConfigured(name)
        openai_detector = OpenAIDetector(
            get_async_client(hass),
            options.get(CONF_OPENAI_API_KEY) or "",
            options.get(CONF_OPENAI_BASE_URL) or DEFAULT_OPENAI_BASE_URL,
            model=options.get(CONF_OPENAI_MODEL) or DEFAULT_OPENAI_MODEL,
            detail=options.get(CONF_OPENAI_DETAIL) or DEFAULT_OPENAI_DETAIL,
        )
        # the SDK's first use blocks (imports, platform headers): do it now, in
        # the executor, rather than on the event loop at the first check
        hass.async_create_background_task(
            openai_detector.async_prepare(), f"{DOMAIN} prepare the OpenAI SDK"
        )
        return openai_detector
    if name == DETECTOR_AI_TASK:
        if not (entity_id := options.get(CONF_AI_TASK_ENTITY)):
            raise DetectorNotConfigured(name)
        return AITaskDetector(hass, entity_id, camera_entity_id)
    if name == DETECTOR_GADGET:
        if not (api_key := options.get(CONF_GADGET_API_KEY)) or detector_form_errors(
            {**options, CONF_DETECTOR: name}
        ):
            raise DetectorNotConfigured(name)
        return GadgetDetector(
            async_get_clientsession(hass),
            api_key,
            options.get(CONF_GADGET_URL) or DEFAULT_GADGET_URL,
            warning_level=int(
                options.get(CONF_GADGET_WARNING_LEVEL, DEFAULT_GADGET_LEVEL)
            ),
            pause_level=int(options.get(CONF_GADGET_PAUSE_LEVEL, DEFAULT_GADGET_LEVEL)),
            clock=hass.loop.time,
        )
    if name == DETECTOR_PRINTWATCH:
        if not (
            api_key := options.get(CONF_PRINTWATCH_API_KEY)
        ) or detector_form_errors({**options, CONF_DETECTOR: name}):
            raise DetectorNotConfigured(name)
        return PrintWatchDetector(
            async_get_clientsession(hass),
            api_key,
            options.get(CONF_PRINTWATCH_URL) or DEFAULT_PRINTWATCH_URL,
            printer_id=f"print_sentinel_{entry.entry_id}",
            printer_info=lambda: _printer_snapshot(entry),
            clock=hass.loop.time,
        )
    raise DetectorNotConfigured(name)


async def async_validate_detector(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any]
) -> str | None:
    """Check the detector's settings with one cheap call; return an error key or None."""
    name = options.get(CONF_DETECTOR, DETECTOR_NONE)
    if name == DETECTOR_AI_TASK:
        entity_id = options.get(CONF_AI_TASK_ENTITY)
        return None if entity_id and hass.states.get(entity_id) else "entity_not_found"
    try:
        detector = build_detector(hass, entry, options, camera_entity_id="")
    except DetectorNotConfigured:
        return "invalid_api_key"
    validate = getattr(detector, "async_validate", None)
    if validate is None:
        return None  # PrintWatch has no free endpoint to check a key with
    try:
        await validate()
    except DetectorAuthError:
        return "invalid_api_key"
    except DetectorUnavailable, DetectorRateLimited:
        return "cannot_connect"
    except DetectorBadResponse:
        return "bad_response"
    except DetectorError:
        LOGGER.exception("Unexpected error validating the %s detector", name)
        return "unknown"
    return None
