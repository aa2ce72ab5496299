"""Print Sentinel: watch 3D printers and stop failed prints."""

from __future__ import annotations

from dataclasses import replace
import inspect

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .blueprint_install import async_setup_blueprint_install
from .const import (
    CONF_CHECK_INTERVAL,
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_CONNECT_URL,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_FRAME_COUNT,
    CONF_POLICY,
    CONF_PRINTER_TYPE,
    CONF_RESUME_GRACE,
    CONF_SENSITIVITY,
    CONF_WARNING_ACTION,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_CONNECT_INTERVAL,
    DEFAULT_CONNECT_URL,
    DEFAULT_FAILURE_ACTION,
    DEFAULT_FRAME_COUNT,
    DEFAULT_POLICY,
    DEFAULT_RESUME_GRACE,
    DEFAULT_SENSITIVITY,
    DEFAULT_WARNING_ACTION,
    DOMAIN,
    LOGGER,
)
from .coordinator import PrinterCoordinator
from .detection.actions import camera_issue_id
from .detection.baseline import BaselineStore
from .detection.monitor import DetectionMonitor, DetectionSettings
from .detection.policy import make_policy
from .detection.registry import get_detector_type
from .detection.setup import DetectorNotConfigured, build_detector
from .ha_device_entities import missing_issue_id
from .printer_types import PRINTER_TYPES
from .printers.base import (
    PrinterAuthError,
    PrinterBackend,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentity,
    PrinterState,
    PushingBackend,
)
from .prusa_connect import (
    PrusaConnectClient,
    PrusaConnectUploader,
    auth_issue_id,
    camera_issue_id as connect_camera_issue_id,
)
from .records import async_create_recorder, async_start_recorder
from .runtime import PrintSentinelConfigEntry, PrintSentinelRuntimeData
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services and install the blueprints once."""
    async_setup_services(hass)
    async_setup_blueprint_install(hass)
    return True


def create_backend(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> PrinterBackend:
    """Build the backend the entry's printer type needs (`printer_types`).

    An unknown type is an error, never another backend's guess.
    """
    printer_type = PRINTER_TYPES.get(entry.data.get(CONF_PRINTER_TYPE, ""))
    if printer_type is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unsupported_printer_type",
            translation_placeholders={
                "printer_type": str(entry.data.get(CONF_PRINTER_TYPE))
            },
        )
    return printer_type.create_backend(hass, entry.data)


async def async_setup_entry(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> bool:
    """Connect to the printer and set up its entities, detection and uploads."""
    backend = create_backend(hass, entry)
    if (follow := PRINTER_TYPES[entry.data[CONF_PRINTER_TYPE]].follow) is not None:
        # before the first read: an entity renamed while setup retries is followed
        entry.async_on_unload(follow(hass, entry))
    try:
        identity = await backend.async_get_identity()
    except PrinterAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except PrinterConnectionError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="printer_unreachable",
            translation_placeholders={"error": str(err)},
        ) from err
    except PrinterError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unexpected_response",
            translation_placeholders={"error": str(err)},
        ) from err

    identity = _stable_identity(entry, identity)
    coordinator = PrinterCoordinator(hass, entry, backend, identity)
    await coordinator.async_config_entry_first_refresh()
    runtime = PrintSentinelRuntimeData(
        backend=backend, identity=identity, coordinator=coordinator
    )
    entry.runtime_data = runtime
    if isinstance(backend, PushingBackend):
        _subscribe(hass, entry, backend, coordinator)
    runtime.monitor = _create_monitor(hass, entry, runtime)
    runtime.connect_uploader = _create_uploader(hass, entry, coordinator)
    async_create_recorder(hass, entry)  # records: before the platforms (chart image)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    device = (
        dr.async_get(hass).async_get(identity.device_id)
        if identity.device_id
        else dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, identity.unique_id), entry.entry_id
        )
    )
    runtime.links.device_id = device.id if device else None
    own_camera = er.async_get(hass).async_get_entity_id(
        "camera", DOMAIN, f"{identity.unique_id}_camera"
    )
    runtime.links.camera_entity_id = own_camera
    if (monitor := runtime.monitor) is not None:
        camera = entry.options.get(CONF_DETECTION_CAMERA) or own_camera or ""
        monitor.settings.camera_entity_id = camera
        detector_type = get_detector_type(entry.options.get(CONF_DETECTOR) or "")
        if (
            detector_type is not None
            and detector_type.needs_camera
            and (detector := build_detector(hass, entry, entry.options, camera))
        ):
            monitor.detector = detector
        await monitor.async_load()
        entry.async_on_unload(monitor.async_start())
    if (uploader := runtime.connect_uploader) is not None:
        entry.async_on_unload(uploader.async_start())
    await async_start_recorder(hass, entry)  # records: once the camera is known
    return True


def _stable_identity(
    entry: PrintSentinelConfigEntry, identity: PrinterIdentity
) -> PrinterIdentity:
    """Key the device and its entities on the entry, not on what the printer says now.

    The entry's unique id is what the printer reported when it was added. A
    Repetier-Server that is reinstalled gets a new `serveruuid`, a PrusaLink without
    a serial number answers from a new hostname: keyed on the live id, such a restart
    would leave the old device behind, unavailable, beside a new one, and lose the
    entities' names, areas and history.
    """
    if not entry.unique_id or entry.unique_id == identity.unique_id:
        return identity
    LOGGER.debug(
        "%s now reports the id %s (added as %s); its device keeps the first",
        entry.title,
        identity.unique_id,
        entry.unique_id,
    )
    return replace(identity, unique_id=entry.unique_id)


def _create_monitor(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    runtime: PrintSentinelRuntimeData,
) -> DetectionMonitor | None:
    """Build the failure-detection monitor the options ask for, if any."""
    options = entry.options
    try:
        detector = build_detector(hass, entry, options, camera_entity_id="")
    except DetectorNotConfigured:
        LOGGER.warning(
            "Failure detection for %s is not fully configured; open the options",
            entry.title,
        )
        return None
    if detector is None:
        ir.async_delete_issue(hass, DOMAIN, f"detector_auth_{entry.entry_id}")
        return None
    policy = make_policy(
        options.get(CONF_POLICY, DEFAULT_POLICY),
        options.get(CONF_SENSITIVITY, DEFAULT_SENSITIVITY),
        float(options.get(CONF_RESUME_GRACE, DEFAULT_RESUME_GRACE)),
    )
    settings = DetectionSettings(
        camera_entity_id="",
        check_interval=float(options.get(CONF_CHECK_INTERVAL, DEFAULT_CHECK_INTERVAL)),
        frame_count=int(options.get(CONF_FRAME_COUNT, DEFAULT_FRAME_COUNT)),
        failure_action=options.get(CONF_FAILURE_ACTION, DEFAULT_FAILURE_ACTION),
        warning_action=options.get(CONF_WARNING_ACTION, DEFAULT_WARNING_ACTION),
    )
    # a reload (options saved) is the user's fix for a refused key: start clean
    ir.async_delete_issue(hass, DOMAIN, f"detector_auth_{entry.entry_id}")
    return DetectionMonitor(
        hass, entry, runtime.coordinator, detector, policy, settings, runtime.links
    )


def _create_uploader(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    coordinator: PrinterCoordinator,
) -> PrusaConnectUploader | None:
    """Build the Prusa Connect uploader the options ask for, if any."""
    options = entry.options
    token = options.get(CONF_CONNECT_TOKEN)
    camera = options.get(CONF_CONNECT_CAMERA)
    fingerprint = options.get(CONF_CONNECT_FINGERPRINT)
    # saved options (a new token, another camera) deserve a fresh look: an upload
    # that still fails raises its issue again
    ir.async_delete_issue(hass, DOMAIN, auth_issue_id(entry.entry_id))
    if not (options.get(CONF_CONNECT_ENABLED) and token and camera and fingerprint):
        ir.async_delete_issue(hass, DOMAIN, connect_camera_issue_id(entry.entry_id))
        return None
    client = PrusaConnectClient(
        async_get_clientsession(hass),
        token,
        fingerprint,
        options.get(CONF_CONNECT_URL) or DEFAULT_CONNECT_URL,
    )
    return PrusaConnectUploader(
        hass,
        entry,
        client=client,
        camera_entity_id=camera,
        interval=float(options.get(CONF_CONNECT_INTERVAL, DEFAULT_CONNECT_INTERVAL)),
        only_printing=bool(options.get(CONF_CONNECT_ONLY_PRINTING, True)),
        is_printing=lambda: (
            # a printer that stopped answering is not known to print
            coordinator.last_update_success
            and coordinator.data is not None
            and coordinator.data.state is PrinterState.PRINTING
        ),
        camera_name=entry.title,
    )


def _subscribe(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    backend: PushingBackend,
    coordinator: PrinterCoordinator,
) -> None:
    """Refresh on every change the backend pushes; stop on unload and at HA's stop."""

    @callback
    def _pushed() -> None:
        # the entry's own task: cancelled when the entry unloads, so no request
        # leaves for a printer that is being removed
        entry.async_create_background_task(
            hass, coordinator.async_refresh(), f"{DOMAIN} pushed change"
        )

    stop = backend.async_subscribe(_pushed)

    async def _stop(_event: Event | None = None) -> None:
        if inspect.isawaitable(result := stop()):
            await result

    entry.async_on_unload(_stop)
    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop))


async def async_unload_entry(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> bool:
    """Unload the printer's entities; detection and uploads stop with them."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> None:
    """Delete what was learned about a removed printer, and its repair issues."""
    await BaselineStore.async_remove(hass, entry.entry_id)
    for issue_id in (
        f"detector_auth_{entry.entry_id}",
        auth_issue_id(entry.entry_id),
        connect_camera_issue_id(entry.entry_id),
        missing_issue_id(entry.entry_id),
        camera_issue_id(entry.entry_id),
    ):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
