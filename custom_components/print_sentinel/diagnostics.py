"""Diagnostics: everything useful for a bug report, nothing secret."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_SNAPSHOT_URL, SECRET_KEYS
from .coordinator import PrintSentinelConfigEntry

TO_REDACT = {
    *SECRET_KEYS,
    CONF_SNAPSHOT_URL,
    "host",
    "hostname",
    "mac",
    "configuration_url",
    "title",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a printer."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    data: dict[str, Any] = {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "identity": async_redact_data(asdict(runtime.identity), TO_REDACT),
        "backend": async_redact_data(runtime.backend.diagnostics(), TO_REDACT),
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
        },
        "snapshot": async_redact_data(asdict(coordinator.data), TO_REDACT)
        if coordinator.data
        else None,
    }
    if runtime.monitor is not None:
        data["detection"] = async_redact_data(runtime.monitor.diagnostics(), TO_REDACT)
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
    return data
