"""Constants for Print Sentinel."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "print_sentinel"
LOGGER = logging.getLogger(__package__)

# Config entry data
CONF_PRINTER_TYPE: Final = "printer_type"
PRINTER_TYPE_PRUSALINK: Final = "prusalink"
PRINTER_TYPE_REPETIER: Final = "repetier"
PRINTER_TYPE_HA_DEVICE: Final = "ha_device"
"""A printer another Home Assistant integration already has (its entities)."""
CONF_ENTITIES: Final = "entities"
"""ha_device: role (state, camera, pause, ...) -> entity id."""
CONF_STATES: Final = "states"
"""ha_device: printing/paused/finished/stopped/error/idle -> the state values."""
CONF_PRINTER_SLUG: Final = "printer_slug"
CONF_WEBCAM: Final = "webcam"
"""Repetier: 0-based index of the printer's webcam the camera shows; None for none.
Entries from before the choice existed have no key: webcam 0, if the printer has one."""
DEFAULT_USERNAME: Final = "maker"
DEFAULT_REPETIER_PORT: Final = 3344

# Options: polling and camera
CONF_IDLE_INTERVAL: Final = "idle_interval"
CONF_PRINTING_INTERVAL: Final = "printing_interval"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
DEFAULT_IDLE_INTERVAL: Final = 30
DEFAULT_PRINTING_INTERVAL: Final = 10
MATERIAL_REFRESH: Final = timedelta(minutes=10)
"""How often the loaded material is re-read when no job changes."""

# Options: failure detection
CONF_DETECTOR: Final = "detector"
DETECTOR_NONE: Final = "none"
DETECTOR_OPENAI: Final = "openai"
DETECTOR_AI_TASK: Final = "ai_task"
DETECTOR_GADGET: Final = "gadget"
DETECTOR_PRINTWATCH: Final = "printwatch"
DETECTORS: tuple[str, ...]
"""`none`, then every registered detector (detection/registry.py): read on use, see
`__getattr__` below."""
CONF_DETECTION_CAMERA: Final = "detection_camera"
CONF_CHECK_INTERVAL: Final = "check_interval"
CONF_FRAME_COUNT: Final = "frame_count"
CONF_SENSITIVITY: Final = "sensitivity"
CONF_POLICY: Final = "policy"
CONF_FAILURE_ACTION: Final = "failure_action"
CONF_WARNING_ACTION: Final = "warning_action"
CONF_RESUME_GRACE: Final = "resume_grace"
CONF_OPENAI_API_KEY: Final = "openai_api_key"
CONF_OPENAI_BASE_URL: Final = "openai_base_url"
CONF_OPENAI_MODEL: Final = "openai_model"
CONF_OPENAI_DETAIL: Final = "openai_image_detail"
CONF_AI_TASK_ENTITY: Final = "ai_task_entity"
CONF_GADGET_API_KEY: Final = "gadget_api_key"
CONF_GADGET_URL: Final = "gadget_url"
CONF_GADGET_WARNING_LEVEL: Final = "gadget_warning_level"
CONF_GADGET_PAUSE_LEVEL: Final = "gadget_pause_level"
CONF_PRINTWATCH_API_KEY: Final = "printwatch_api_key"
CONF_PRINTWATCH_URL: Final = "printwatch_url"
CONF_FRAME_LONG_SIDE: Final = "frame_long_side"
"""Long side (pixels) of the frames the OpenAI-compatible detector gets; unset:
`DETECTOR_LONG_SIDE`."""
FRAME_LONG_SIDES: Final = (256, 384, 512, 768)

DEFAULT_CHECK_INTERVAL: Final = 30
"""Seconds between checks; the monitor checks sooner while a failure is suspected."""
DEFAULT_FRAME_COUNT: Final = 3
DEFAULT_LONG_SIDE: Final = 768
DETECTOR_LONG_SIDE: Final = {"openai": 256}
"""Frame size per detector where it differs: three 256 px frames keep the default
OpenAI detector under $0.01 per print-hour (see benchmarks/cost.py)."""
DEFAULT_SENSITIVITY: Final = "medium"
DEFAULT_POLICY: Final = "sentinel"
DEFAULT_RESUME_GRACE: Final = 300
DEFAULT_OPENAI_BASE_URL: Final = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL: Final = "gpt-4.1-nano"
DEFAULT_OPENAI_DETAIL: Final = "low"
DEFAULT_GADGET_URL: Final = "https://gadget-pv1-oeapi.octoeverywhere.com"
DEFAULT_GADGET_LEVEL: Final = 3
DEFAULT_PRINTWATCH_URL: Final = "https://octoprint.printpal.io"

ACTION_NONE: Final = "none"
ACTION_NOTIFY: Final = "notify"
ACTION_PAUSE: Final = "pause"
ACTION_CANCEL: Final = "cancel"
DEFAULT_FAILURE_ACTION: Final = ACTION_PAUSE
DEFAULT_WARNING_ACTION: Final = ACTION_NOTIFY

# Options: Prusa Connect snapshot upload
CONF_CONNECT_ENABLED: Final = "connect_enabled"
CONF_CONNECT_TOKEN: Final = "connect_token"  # noqa: S105
CONF_CONNECT_FINGERPRINT: Final = "connect_fingerprint"
CONF_CONNECT_CAMERA: Final = "connect_camera"
CONF_CONNECT_INTERVAL: Final = "connect_interval"
CONF_CONNECT_ONLY_PRINTING: Final = "connect_only_printing"
CONF_CONNECT_URL: Final = "connect_url"
DEFAULT_CONNECT_URL: Final = "https://connect.prusa3d.com"
DEFAULT_CONNECT_INTERVAL: Final = 10
MIN_CONNECT_INTERVAL: Final = 10

# Everything secret, for diagnostics and logs
SECRET_KEYS: Final = frozenset(
    {
        "password",
        "api_key",
        CONF_CONNECT_TOKEN,
        CONF_CONNECT_FINGERPRINT,
        "serial",
        "serial_number",
        "unique_id",
        "token",
        "fingerprint",
    }
)
"""Secrets beside the printer types' (`printer_types.SECRET_KEYS`) and the
detectors' (`detection.registry.secret_option_keys`)."""

# Events fired on the HA bus (besides the event entities)
EVENT_DETECTION: Final = f"{DOMAIN}_detection"
"""Fired on every warning or failure decision, with verdict and action taken."""
