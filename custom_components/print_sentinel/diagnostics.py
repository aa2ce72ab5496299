"""Diagnostics: everything useful for a bug report, nothing secret."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from yarl import URL

from .const import (
    CONF_SNAPSHOT_URL,
    DEFAULT_CONNECT_URL,
    DEFAULT_GADGET_URL,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_PRINTWATCH_URL,
    SECRET_KEYS,
)
from .detection.registry import secret_option_keys
from .printer_types import SECRET_KEYS as PRINTER_SECRET_KEYS
from .runtime import PrintSentinelConfigEntry

_ALSO_REDACTED = {
    CONF_SNAPSHOT_URL,
    "host",
    "hostname",
    "mac",
    "configuration_url",
    "title",
}


def _to_redact() -> set[str]:
    """Every secret: the printer types', the registered detectors', the rest."""
    return {
        *SECRET_KEYS,
        *PRINTER_SECRET_KEYS,
        *secret_option_keys(),
        *_ALSO_REDACTED,
    }


PUBLIC_URLS = frozenset(
    {
        DEFAULT_OPENAI_BASE_URL,
        DEFAULT_GADGET_URL,
        DEFAULT_PRINTWATCH_URL,
        DEFAULT_CONNECT_URL,
    }
)
"""The services' own URLs: shown, so a report says which service is used."""


def redact_url(value: str) -> str:
    """Keep only the scheme of a URL the user typed (host, user, path are theirs)."""
    if value.rstrip("/") in PUBLIC_URLS:
        return value
    try:
        scheme = URL(value).scheme
    except ValueError:
        scheme = ""
    return f"{scheme}://{REDACTED}" if scheme else REDACTED


def redact_urls(data: Any) -> Any:
    """Redact every URL in `data`, under whatever key it sits.

    A safety net over `async_redact_data`: a base URL with `user:password@`, a
    camera's address or a self-hosted service can sit under any key.
    """
    if isinstance(data, dict):
        return {key: redact_urls(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact_urls(value) for value in data]
    if isinstance(data, str) and "://" in data:
        return redact_url(data)
    return data


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a printer."""
    to_redact = _to_redact()
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    data: dict[str, Any] = {
        "entry": async_redact_data(
            {
                "title": entry.title,
                # the name the user typed is the printer's name, like the title
                "data": {
                    key: REDACTED if key == CONF_NAME else value
                    for key, value in entry.data.items()
                },
                "options": dict(entry.options),
            },
            to_redact,
        ),
        "identity": async_redact_data(
            {
                **asdict(runtime.identity),
                # the title is the printer's name: redacted under both keys
                "name": REDACTED
                if runtime.identity.name in (entry.title, entry.data.get(CONF_NAME))
                else runtime.identity.name,
            },
            to_redact,
        ),
        "backend": async_redact_data(runtime.backend.diagnostics(), to_redact),
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
        },
        "snapshot": async_redact_data(asdict(coordinator.data), to_redact)
        if coordinator.data
        else None,
    }
    if runtime.monitor is not None:
        data["detection"] = async_redact_data(runtime.monitor.diagnostics(), to_redact)
        data["detection_baseline"] = runtime.monitor.baseline_diagnostics()
        data["detection_timeline"] = runtime.monitor.timeline_diagnostics()
    if (uploader := runtime.connect_uploader) is not None:
        data["prusa_connect"] = {
            "uploads": uploader.uploads,
            "last_success": uploader.last_success.isoformat()
            if uploader.last_success
            else None,
            "last_error": uploader.last_error,
            "auth_failed": uploader.auth_failed,
            "interval": uploader.interval.total_seconds(),
        }
    redacted: dict[str, Any] = redact_urls(data)
    return redacted
