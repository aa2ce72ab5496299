"""Print records: a record per print, its timelapse, its detection chart.

The monitor reports each check with `async_record_check`; `__init__.py` creates a
printer's recorder before its platforms (`async_create_recorder`, for the chart
image) and starts it once the camera is known (`async_start_recorder`).
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback

from ..const import CONF_DETECTION_CAMERA
from ..runtime import PrintSentinelConfigEntry
from .http import async_register_view
from .recorder import PrintRecorder, RecorderSettings, ffmpeg_binary
from .signals import async_record_check

__all__ = [
    "async_create_recorder",
    "async_record_check",
    "async_start_recorder",
    "get_recorder",
]


def get_recorder(entry: PrintSentinelConfigEntry) -> PrintRecorder | None:
    """Return the recorder of a config entry, if it has one."""
    return entry.runtime_data.recorder


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
        links=runtime.links,
        flagged_frame=lambda: (
            runtime.monitor.state.flagged_frame if runtime.monitor is not None else None
        ),
    )
    runtime.recorder = recorder
    return recorder


async def async_start_recorder(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> None:
    """Start recording with the detection camera, else the printer's own camera."""
    if (recorder := get_recorder(entry)) is None:
        return
    own = entry.runtime_data.links.camera_entity_id or ""
    recorder.settings.camera_entity_id = entry.options.get(CONF_DETECTION_CAMERA) or own
    recorder.own_camera = recorder.settings.camera_entity_id == own
    recorder.settings.ffmpeg = ffmpeg_binary(hass)
    async_register_view(hass)
    entry.async_on_unload(await recorder.async_start())
