"""Constants of the print records: options, defaults, limits and the check signal."""

from __future__ import annotations

from typing import Final

# Options (a step of their own in the options flow)
CONF_TIMELAPSE_MODE: Final = "timelapse_mode"
TIMELAPSE_INTERVAL: Final = "interval"
TIMELAPSE_LAYER: Final = "layer"
TIMELAPSE_OFF: Final = "off"
TIMELAPSE_MODES: Final = (TIMELAPSE_INTERVAL, TIMELAPSE_LAYER, TIMELAPSE_OFF)
CONF_TIMELAPSE_INTERVAL: Final = "timelapse_interval"
CONF_RECORDS_KEEP: Final = "records_keep"
CONF_RECORDS_MAX_MB: Final = "records_max_mb"

DEFAULT_TIMELAPSE_MODE: Final = TIMELAPSE_INTERVAL
DEFAULT_TIMELAPSE_INTERVAL: Final = 60
"""Seconds between timelapse frames: a 4-hour print gives 240 frames, 10 s at 24 fps."""
MIN_TIMELAPSE_INTERVAL: Final = 10
MAX_TIMELAPSE_INTERVAL: Final = 3600
DEFAULT_RECORDS_KEEP: Final = 20
DEFAULT_RECORDS_MAX_MB: Final = 500

# Limits that keep memory and disk bounded whatever the print
MAX_TIMELAPSE_FRAMES: Final = 1200
"""More frames than this are thinned (every other one deleted, interval doubled)."""
MAX_TIMELINE_ENTRIES: Final = 5000
"""A check every 10 s for 13 hours; the oldest checks (never actions) are dropped."""
MAX_FLAGGED_FRAMES: Final = 20
FRAME_LONG_SIDE: Final = 960
TIMELAPSE_FPS: Final = 24
MIN_FREE_BYTES: Final = 200 * 1024 * 1024
"""Recording stops (one repair issue) when the disk has less free space than this."""

OUTCOME_FINISHED: Final = "finished"
OUTCOME_CANCELLED: Final = "cancelled"
OUTCOME_FAILED: Final = "failed"
OUTCOME_PAUSED_BY_SENTINEL: Final = "paused_by_sentinel"
OUTCOME_INTERRUPTED: Final = "interrupted"
"""Home Assistant stopped during the print and the job was gone when it came back."""

SIGNAL_DETECTION_CHECK: Final = "print_sentinel_detection_check_{}"
"""Dispatcher signal (format with the entry id) the monitor sends after every check
and action, with a dict: see `records.async_record_check`."""

RECORDS_FOLDER: Final = ("print_sentinel", "records")
ISSUE_RECORDING_STOPPED: Final = "recording_stopped_{}"
