"""Services: run a vision check now, reset failure detection, mark a false alarm."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.translation import async_get_exception_message
import probatio as vol

from .const import DOMAIN
from .detection.monitor import DetectionMonitor
from .detection.on_demand import async_check_once
from .detection.registry import detector_keys
from .detection.setup import DetectorNotConfigured, build_detector
from .detection.verdict import Detector, DetectorAuthError, DetectorError
from .runtime import PrintSentinelConfigEntry

ATTR_DEVICE_ID = "device_id"
ATTR_CAMERA = "camera_entity_id"
ATTR_DETECTOR = "detector"
ATTR_FRAME_COUNT = "frame_count"

SERVICE_VISION_CHECK = "vision_check"
SERVICE_RESET_DETECTION = "reset_detection"
SERVICE_FALSE_ALARM = "false_alarm"


def _known_detector(value: Any) -> Any:
    """A registered detector's key (read at each call: the registry may grow)."""
    return vol.In(list(detector_keys()))(value)


VISION_CHECK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_CAMERA): cv.entity_domain("camera"),
        vol.Optional(ATTR_DETECTOR): _known_detector,
        vol.Optional(ATTR_FRAME_COUNT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=6)
        ),
    }
)
RESET_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


def _entry_for_device(hass: HomeAssistant, device_id: str) -> PrintSentinelConfigEntry:
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"device_id": device_id},
        )
    entry = hass.config_entries.async_get_entry(device.config_entry_id)
    if entry is None or entry.domain != DOMAIN:
        # a printer of another integration: Print Sentinel's entities joined its device
        entry = next(
            (
                candidate
                for candidate in hass.config_entries.async_entries(DOMAIN)
                if candidate.data.get(CONF_DEVICE_ID) == device_id
            ),
            None,
        )
    if entry is not None and entry.domain == DOMAIN:
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="printer_not_loaded",
                translation_placeholders={"printer": entry.title},
            )
        return entry
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="device_not_found",
        translation_placeholders={"device_id": device_id},
    )


async def _async_vision_check(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    entry = _entry_for_device(hass, call.data[ATTR_DEVICE_ID])
    monitor = entry.runtime_data.monitor
    camera: str | None = call.data.get(ATTR_CAMERA)
    if camera is not None and hass.states.get(camera) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="camera_not_found",
            translation_placeholders={"entity_id": camera},
        )
    camera = camera or (monitor.settings.camera_entity_id if monitor else None)
    if camera is None:
        camera = entry.runtime_data.links.camera_entity_id
    override = call.data.get(ATTR_DETECTOR)
    detector = None
    if override is not None:
        try:
            detector = build_detector(
                hass, entry, entry.options, camera or "", override
            )
        except DetectorNotConfigured as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="detector_not_configured",
                translation_placeholders={"detector": override},
            ) from err
    elif monitor is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="detection_off",
            translation_placeholders={"printer": entry.title},
        )
    if not camera:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_camera"
        )
    try:
        if monitor is not None:
            result = await monitor.async_vision_check(
                camera_entity_id=camera,
                detector=detector,
                frame_count=call.data.get(ATTR_FRAME_COUNT),
            )
        else:
            assert detector is not None
            result = await async_check_once(hass, camera, detector, entry.options)
    except DetectorAuthError as err:
        return _check_failed(
            monitor, detector, camera, "detector_auth", {"reason": err.error_type}
        )
    except DetectorError as err:
        return _check_failed(
            monitor, detector, camera, "detector_failed", {"error": str(err)}
        )
    except (HomeAssistantError, ValueError) as err:
        return _check_failed(
            monitor,
            detector,
            camera,
            "camera_failed",
            {"entity_id": camera, "error": str(err)},
        )
    return result


def _check_failed(
    monitor: DetectionMonitor | None,
    detector: Detector | None,
    camera: str,
    key: str,
    placeholders: dict[str, str],
) -> dict[str, Any]:
    """The response of a check the camera or the detector could not finish.

    An outcome, not an exception: a detector that is down, rate-limited or
    answers nonsense is what a check can meet (and what never pauses), so an
    automation reads `error` instead of stopping, and HA's REST API answers 200,
    not 500. Bad input to the action still raises.
    """
    used = detector or (monitor.detector if monitor is not None else None)
    return {
        "error": key,
        "message": async_get_exception_message(DOMAIN, key, placeholders),
        "failure_score": None,
        "warning": False,
        "pause": False,
        "detector": used.name if used is not None else None,
        "frames": 0,
        "decision": monitor.state.decision.value if monitor is not None else None,
        "camera_entity_id": camera,
    }


def _monitor_for(call: ServiceCall) -> DetectionMonitor:
    entry = _entry_for_device(call.hass, call.data[ATTR_DEVICE_ID])
    if (monitor := entry.runtime_data.monitor) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="detection_off",
            translation_placeholders={"printer": entry.title},
        )
    return monitor


async def _async_reset_detection(call: ServiceCall) -> None:
    _monitor_for(call).async_reset()


async def _async_false_alarm(call: ServiceCall) -> None:
    monitor = _monitor_for(call)
    if not monitor.async_false_alarm():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_alarm",
            translation_placeholders={"printer": monitor.entry.title},
        )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_VISION_CHECK,
        _async_vision_check,
        schema=VISION_CHECK_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_RESET_DETECTION, _async_reset_detection, schema=RESET_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_FALSE_ALARM, _async_false_alarm, schema=RESET_SCHEMA
    )
