"""Printers of other integrations, as Home Assistant's registries hold them.

`SPECS` describes, per integration, the device and the entities it registers, with the
same platform, entity domain, unique-id shape and translation key as the integration's
own source (see `ha_profiles.PROFILES[...].source`). Each entity names the Print
Sentinel role it should be proposed for, or None for a look-alike that must not be
(target temperatures, macro buttons, preview cameras, ...).

`register_printer` puts such a printer into a test's `hass`: a MockConfigEntry of the
integration's domain, its device and its registry entries, and states for them. The
integration itself is not installed or loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import slugify
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.printers.ha_profiles import PROFILES


@dataclass(frozen=True, kw_only=True)
class EntitySpec:
    """One entity as the integration registers it."""

    role: str | None  # the role Print Sentinel should propose it for
    domain: str
    unique_id: str  # with "{id}" where the integration puts its serial/entry/uuid
    name: str  # the entity's name (object id is made from the device and this)
    translation_key: str | None = None
    state: str = "unknown"  # the state set when the role has no default below


@dataclass(frozen=True, kw_only=True)
class PrinterSpec:
    """A device of an integration and its entities."""

    integration: str
    id: str  # what "{id}" stands for in the unique ids
    device_name: str
    manufacturer: str | None
    model: str | None
    identifier: str  # the device registry identifier's second part
    entry_title: str
    entry_data: dict[str, object] = field(default_factory=dict)
    entry_unique_id: str | None = None
    entities: tuple[EntitySpec, ...] = ()

    def unique_id(self, entity: EntitySpec) -> str:
        """The entity's unique id for this printer."""
        return entity.unique_id.replace("{id}", self.id)


def _e(
    role: str | None,
    domain: str,
    unique_id: str,
    name: str,
    translation_key: str | None = None,
    state: str = "unknown",
) -> EntitySpec:
    return EntitySpec(
        role=role,
        domain=domain,
        unique_id=unique_id,
        name=name,
        translation_key=translation_key,
        state=state,
    )


BAMBU_SERIAL = "01P00A391800217"
# ha-bambulab: unique ids f"{serial}_{key}", device name f"{device_type}_{serial}".
BAMBU = PrinterSpec(
    integration="bambu_lab",
    id=BAMBU_SERIAL,
    device_name=f"P1S_{BAMBU_SERIAL}",
    manufacturer="Bambu Lab",
    model="P1S",
    identifier=BAMBU_SERIAL,
    entry_title=BAMBU_SERIAL,
    entry_data={"serial": BAMBU_SERIAL, "device_type": "P1S"},
    entry_unique_id=BAMBU_SERIAL,
    entities=(
        _e("state", "sensor", "{id}_print_status", "Print status", "print_status"),
        _e(None, "sensor", "{id}_stage", "Current stage", "stage", "printing"),
        _e("camera", "camera", "{id}_camera", "Camera", "camera", "idle"),
        _e(None, "image", "{id}_cover_image", "Cover image", "cover_image"),
        _e("pause", "button", "{id}_pause", "Pause printing", "pause"),
        _e("resume", "button", "{id}_resume", "Resume printing", "resume"),
        _e("stop", "button", "{id}_stop", "Stop printing", "stop"),
        _e(None, "button", "{id}_refresh", "Force refresh data", "refresh"),
        _e("job_name", "sensor", "{id}_subtask_name", "Task name", "subtask_name"),
        _e(None, "sensor", "{id}_gcode_file", "Gcode filename", "gcode_file"),
        _e(
            "progress",
            "sensor",
            "{id}_print_progress",
            "Print progress",
            "print_progress",
        ),
        _e(
            "time_remaining",
            "sensor",
            "{id}_remaining_time",
            "Remaining time",
            "remaining_time",
        ),
        _e("material", "sensor", "{id}_active_tray", "Active tray", "active_tray"),
        _e(
            None,
            "sensor",
            "{id}_target_nozzle_temp",
            "Nozzle target",
            "target_nozzle_temp",
            "220",
        ),
        _e("nozzle", "sensor", "{id}_nozzle_temp", "Nozzle temperature", "nozzle_temp"),
        _e(
            None,
            "sensor",
            "{id}_target_bed_temp",
            "Bed target",
            "target_bed_temp",
            "65",
        ),
        _e("bed", "sensor", "{id}_bed_temp", "Bed temperature", "bed_temp"),
        _e(
            "failure", "binary_sensor", "{id}_print_error", "Print error", "print_error"
        ),
        _e(None, "binary_sensor", "{id}_hms", "HMS errors", "hms_errors", "off"),
    ),
)

OCTOPRINT_UUID = "3f5a1b7e-9c2d-4e8f-a6b0-1d2c3e4f5a6b"
# HA core octoprint: unique ids f"{type}-{config_entry.unique_id}", camera = the uuid.
OCTOPRINT = PrinterSpec(
    integration="octoprint",
    id=OCTOPRINT_UUID,
    device_name="OctoPrint",
    manufacturer="OctoPrint",
    model=None,
    identifier=OCTOPRINT_UUID,
    entry_title="192.168.1.40",
    entry_data={
        "host": "192.168.1.40",
        "port": 80,
        "path": "/",
        "ssl": False,
        "verify_ssl": True,
        "username": "pi",
    },
    entry_unique_id=OCTOPRINT_UUID,
    entities=(
        _e(
            "state", "sensor", "Current State-{id}", "OctoPrint Current State", "status"
        ),
        _e(None, "binary_sensor", "Printing-{id}", "OctoPrint Printing", state="on"),
        _e(
            "failure",
            "binary_sensor",
            "Printing Error-{id}",
            "OctoPrint Printing Error",
        ),
        _e("camera", "camera", "{id}", "OctoPrint Camera", state="idle"),
        _e("resume", "button", "Resume Job-{id}", "OctoPrint Resume Job"),
        _e("pause", "button", "Pause Job-{id}", "OctoPrint Pause Job"),
        _e("stop", "button", "Stop Job-{id}", "OctoPrint Stop Job"),
        _e(None, "button", "Shutdown System-{id}", "OctoPrint Shutdown System"),
        _e(None, "button", "Restart Octoprint-{id}", "OctoPrint Restart Octoprint"),
        _e("progress", "sensor", "Job Percentage-{id}", "OctoPrint Job Percentage"),
        _e(
            "time_remaining",
            "sensor",
            "Estimated Finish Time-{id}",
            "OctoPrint Estimated Finish Time",
        ),
        _e(None, "sensor", "Start Time-{id}", "OctoPrint Start Time"),
        _e(
            "job_name",
            "sensor",
            "Current File-{id}",
            "OctoPrint Current File",
            "file_name",
        ),
        _e(None, "sensor", "Current File Size-{id}", "OctoPrint Current File Size"),
        _e("nozzle", "sensor", "actual tool0 temp-{id}", "OctoPrint actual tool0 temp"),
        _e(
            None,
            "sensor",
            "target tool0 temp-{id}",
            "OctoPrint target tool0 temp",
            state="215",
        ),
        _e("bed", "sensor", "actual bed temp-{id}", "OctoPrint actual bed temp"),
        _e(
            None,
            "sensor",
            "target bed temp-{id}",
            "OctoPrint target bed temp",
            state="60",
        ),
    ),
)

MOONRAKER_ENTRY_ID = "01JQ7MOONRAKER0000000000AA"
# moonraker-home-assistant: unique ids f"{entry_id}_{key}"; device (moonraker, entry_id).
MOONRAKER = PrinterSpec(
    integration="moonraker",
    id=MOONRAKER_ENTRY_ID,
    device_name="voron",
    manufacturer="moonraker",
    model="moonraker",
    identifier=MOONRAKER_ENTRY_ID,
    entry_title="voron",
    entry_data={"url": "192.168.1.50", "port": "7125", "printer_name": "voron"},
    entities=(
        _e(None, "sensor", "{id}_state", "Printer State", state="ready"),
        _e("state", "sensor", "{id}_print_state", "Current Print State"),
        _e(
            None,
            "sensor",
            "{id}_idle_timeout_state",
            "Idle Timeout State",
            state="Printing",
        ),
        _e("job_name", "sensor", "{id}_filename", "Filename"),
        _e("progress", "sensor", "{id}_progress", "Progress"),
        _e("time_remaining", "sensor", "{id}_print_time_left", "Print Time Left"),
        _e(
            None,
            "sensor",
            "{id}_slicer_print_time_left_estimate",
            "Slicer Print Time Left Estimate",
        ),
        _e("nozzle", "sensor", "{id}_extruder_temp", "Extruder Temperature"),
        _e(None, "sensor", "{id}_extruder_power", "Extruder Power", state="40"),
        _e("bed", "sensor", "{id}_heater_bed_temp", "Bed Temperature"),
        _e(None, "button", "{id}_emergency_stop", "Emergency Stop"),
        _e(None, "button", "{id}_PAUSE", "Macro Pause"),
        _e(None, "button", "{id}_RESUME", "Macro Resume"),
        _e(None, "button", "{id}_CANCEL_PRINT", "Macro Cancel Print"),
        _e("pause", "button", "{id}_pause_print", "Pause Print"),
        _e("resume", "button", "{id}_resume_print", "Resume Print"),
        _e("stop", "button", "{id}_cancel_print", "Cancel Print"),
        _e(None, "camera", "{id}_thumbnail", "voron Thumbnail", state="idle"),
        _e("camera", "camera", "{id}_webcam_0", "voron webcam", state="idle"),
    ),
)

PRUSALINK_ENTRY_ID = "01JQ7PRUSALINK00000000000B"
# HA core prusalink: unique ids f"{entry_id}_{description.key}".
PRUSALINK = PrinterSpec(
    integration="prusalink",
    id=PRUSALINK_ENTRY_ID,
    device_name="Prusa MK4",
    manufacturer="Prusa",
    model=None,
    identifier=PRUSALINK_ENTRY_ID,
    entry_title="Prusa MK4",
    entry_data={"host": "http://192.168.1.60", "username": "maker", "password": "x"},
    entities=(
        _e("state", "sensor", "{id}_printer.state", "State", "printer_state"),
        _e("camera", "camera", "{id}_job_preview", "Preview", "job_preview", "idle"),
        _e("stop", "button", "{id}_printer.cancel_job", "Cancel job", "cancel_job"),
        _e("pause", "button", "{id}_job.pause_job", "Pause job", "pause_job"),
        _e("resume", "button", "{id}_job.resume_job", "Resume job", "resume_job"),
        _e(None, "button", "{id}_job.continue_job", "Continue", "continue_job"),
        _e("job_name", "sensor", "{id}_job.filename", "Filename", "filename"),
        _e("progress", "sensor", "{id}_job.progress", "Progress", "progress"),
        _e(None, "sensor", "{id}_job.start", "Print start", "print_start"),
        _e(
            "time_remaining",
            "sensor",
            "{id}_job.finish",
            "Print finish",
            "print_finish",
        ),
        _e(
            "material",
            "sensor",
            "{id}_printer.telemetry.material",
            "Material",
            "material",
        ),
        _e(
            None,
            "sensor",
            "{id}_printer.telemetry.temp-nozzle.target",
            "Nozzle target temperature",
            "nozzle_target_temperature",
            "215",
        ),
        _e(
            "nozzle",
            "sensor",
            "{id}_printer.telemetry.temp-nozzle",
            "Nozzle temperature",
            "nozzle_temperature",
        ),
        _e(
            None,
            "sensor",
            "{id}_printer.telemetry.temp-bed.target",
            "Heatbed target temperature",
            "heatbed_target_temperature",
            "60",
        ),
        _e(
            "bed",
            "sensor",
            "{id}_printer.telemetry.temp-bed",
            "Heatbed temperature",
            "heatbed_temperature",
        ),
        _e(None, "binary_sensor", "{id}_info.mmu", "MMU", "mmu", "off"),
    ),
)

ELEGOO_ID = "f25273b12b094c5a8b9513a30ca60049"
# elegoo-homeassistant: unique ids f"{machine_id}_{key}", device name/model/brand from
# the config entry's data (the brand string is what discovery reports; "Elegoo" here).
ELEGOO = PrinterSpec(
    integration="elegoo_printer",
    id=ELEGOO_ID,
    device_name="Centauri Carbon",
    manufacturer="Elegoo",
    model="Centauri Carbon",
    identifier=ELEGOO_ID,
    entry_title="Centauri Carbon",
    entry_data={
        "id": ELEGOO_ID,
        "name": "Centauri Carbon",
        "model": "Centauri Carbon",
        "brand": "Elegoo",
        "ip_address": "192.168.1.70",
    },
    entities=(
        _e(
            None,
            "sensor",
            "{id}_current_status",
            "Current Status",
            "current_status",
            "printing",
        ),
        _e("state", "sensor", "{id}_print_status", "Print Status", "print_status"),
        _e("failure", "sensor", "{id}_print_error", "Print Error", "print_error"),
        _e(None, "image", "{id}_cover_image", "Cover Image"),
        _e("camera", "camera", "{id}_chamber_camera", "Chamber Camera", state="idle"),
        _e("pause", "button", "{id}_pause_print", "Pause Print"),
        _e("resume", "button", "{id}_resume_print", "Resume Print"),
        _e("stop", "button", "{id}_stop_print", "Stop Print"),
        _e("job_name", "sensor", "{id}_filename", "File Name"),
        _e("progress", "sensor", "{id}_percent_complete", "Percent Complete"),
        _e("time_remaining", "sensor", "{id}_ticks_remaining", "Remaining Print Time"),
        _e(None, "sensor", "{id}_total_ticks", "Total Print Time"),
        _e("nozzle", "sensor", "{id}_nozzle_temp", "Nozzle Temperature"),
        _e(
            None, "number", "{id}_target_nozzle_temp", "Target Nozzle Temp", state="220"
        ),
        _e("bed", "sensor", "{id}_bed_temp", "Bed Temperature"),
        _e(None, "number", "{id}_target_bed_temp", "Target Bed Temp", state="60"),
        _e(None, "sensor", "{id}_temp_of_box", "Box Temp", state="31"),
    ),
)

SPECS: dict[str, PrinterSpec] = {
    spec.integration: spec for spec in (BAMBU, OCTOPRINT, MOONRAKER, PRUSALINK, ELEGOO)
}

# State set per role when `register_printer` is not told otherwise ("state" gets the
# integration's first "printing" value, "failure" its "all well" value).
ROLE_STATES: dict[str, str] = {
    "camera": "idle",
    "pause": "unknown",
    "resume": "unknown",
    "stop": "unknown",
    "job_name": "benchy.gcode",
    "progress": "42",
    "time_remaining": "37",
    "material": "PLA",
    "nozzle": "215.0",
    "bed": "60.0",
}


def default_state(spec: PrinterSpec, entity: EntitySpec) -> str:
    """The state an entity of a registered printer starts with."""
    profile = PROFILES[spec.integration]
    if entity.role == "state":
        return profile.states["printing"][0]
    if entity.role == "failure":
        if entity.domain == "binary_sensor":
            return "off"
        return profile.failure_ok_states[0]
    if entity.role is not None:
        return ROLE_STATES[entity.role]
    return entity.state


def object_id(spec: PrinterSpec, entity: EntitySpec) -> str:
    """The object id HA would make of the device's and the entity's names."""
    if entity.name.startswith(spec.device_name):
        return slugify(entity.name)
    return slugify(f"{spec.device_name} {entity.name}")


@dataclass
class FakePrinter:
    """A printer of another integration registered in a test's hass."""

    hass: HomeAssistant
    device_id: str
    entity_ids: dict[str, str]  # role -> entity_id
    config_entry: ConfigEntry
    all_entity_ids: list[str] = field(default_factory=list)

    def set_state(self, role: str, value: str) -> None:
        """Set the state of the role's entity, keeping its attributes."""
        entity_id = self.entity_ids[role]
        old = self.hass.states.get(entity_id)
        attributes = dict(old.attributes) if old is not None else {}
        self.hass.states.async_set(entity_id, value, attributes)


def register_printer(
    hass: HomeAssistant, integration: str, *, states: dict[str, str] | None = None
) -> FakePrinter:
    """Register a printer of `integration` (config entry, device, entities, states).

    `states` overrides the state of a role's entity (role -> raw state value).
    """
    spec = SPECS[integration]
    config_entry = MockConfigEntry(
        domain=integration,
        title=spec.entry_title,
        data=dict(spec.entry_data),
        unique_id=spec.entry_unique_id,
        # Moonraker and PrusaLink build unique ids from the entry id.
        entry_id=spec.id if integration in {"moonraker", "prusalink"} else None,
    )
    config_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=config_entry.entry_id,
        identifiers={(integration, spec.identifier)},
        name=spec.device_name,
        manufacturer=spec.manufacturer,
        model=spec.model,
    )
    registry = er.async_get(hass)
    overrides = states or {}
    entity_ids: dict[str, str] = {}
    all_ids: list[str] = []
    for entity in spec.entities:
        entry = registry.async_get_or_create(
            entity.domain,
            integration,
            spec.unique_id(entity),
            config_entry=config_entry,
            device_id=device.id,
            translation_key=entity.translation_key,
            original_name=entity.name,
            suggested_object_id=object_id(spec, entity),
        )
        all_ids.append(entry.entity_id)
        value = default_state(spec, entity)
        if entity.role is not None:
            entity_ids[entity.role] = entry.entity_id
            value = overrides.get(entity.role, value)
        hass.states.async_set(entry.entity_id, value, {"friendly_name": entity.name})
    return FakePrinter(
        hass=hass,
        device_id=device.id,
        entity_ids=entity_ids,
        config_entry=config_entry,
        all_entity_ids=all_ids,
    )
