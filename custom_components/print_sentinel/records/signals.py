"""How detection tells the print records about a check (a dispatcher signal)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import SIGNAL_DETECTION_CHECK


@callback
def async_record_check(
    hass: HomeAssistant, entry_id: str, entry: dict[str, Any]
) -> None:
    """Note one detection check (or action) in the running print's record.

    `entry` holds what is known of the check, any of: `score` (0-100), `kind`,
    `reason`, `error` (the detector or camera failed: a gap in the chart),
    `decision` ("ok", "warning", "failure"), `action` ("paused", "notified", ...),
    `warning_level` and `failure_level` (the policy's lines in the chart); or a
    `type` of "false_alarm" for a user's false-alarm mark. Safe to call when no
    recorder runs.
    """
    async_dispatcher_send(hass, SIGNAL_DETECTION_CHECK.format(entry_id), entry)
