"""Print records: a record per print, its timelapse, its detection chart.

The monitor reports each check with `async_record_check`; `__init__.py` creates a
printer's recorder before its platforms (`async_create_recorder`, for the chart
image) and starts it once the camera is known (`async_start_recorder`).
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from ..const import CONF_DETECTION_CAMERA
from ..coordinator import PrintSentinelConfigEntry
from .const import SIGNAL_DETECTION_CHECK
from .http import async_register_view
from .recorder import PrintRecorder, RecorderSettings, ffmpeg_binary

RECORDER_KEY = "recorder"


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


def get_recorder(entry: PrintSentinelConfigEntry) -> PrintRecorder | None:
    """Return the recorder of a config entry, if it has one."""
    recorder = entry.runtime_data.extra.get(RECORDER_KEY)
    return recorder if isinstance(recorder, PrintRecorder) else None


@callback
def async_create_recorder(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> PrintRecorder:
    """Create the printer's recorder (before the platforms, for the chart image)."""
    runtime = entry.runtime_data
    recorder = PrintRecorder(
        hass,
        entry,
        runtime.coordinator,
        RecorderSettings.from_options(entry.options, camera_entity_id=""),
    )
    runtime.extra[RECORDER_KEY] = recorder
    return recorder


async def async_start_recorder(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> None:
    """Start recording with the detection camera, else the printer's own camera."""
    if (recorder := get_recorder(entry)) is None:
        return
    extra = entry.runtime_data.extra
    own = extra.get("camera_entity_id") or ""
    recorder.settings.camera_entity_id = entry.options.get(CONF_DETECTION_CAMERA) or own
    recorder.own_camera = recorder.settings.camera_entity_id == own
    recorder.settings.ffmpeg = ffmpeg_binary(hass)
    async_register_view(hass)
    entry.async_on_unload(await recorder.async_start())
