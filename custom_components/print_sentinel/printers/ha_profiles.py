"""Profiles of printer integrations already in Home Assistant.

The printer type "a printer already in Home Assistant" lets the user pick a device of
another integration (ha-bambulab, OctoPrint, Moonraker, PrusaLink, Elegoo). A profile
says which of that integration's entities give each role (the print state, the camera,
the pause/resume/stop buttons, the job name, ...) and which raw state values mean
printing, paused and so on. `propose` turns a device's entity registry entries into a
role -> entity_id proposal the config flow shows as defaults.

Matching uses only what the integration itself fixes in the registry: its domain
(`platform`), the entity domain, the `translation_key` and the shape of the
`unique_id`. Entity ids are never looked at: users rename them.

Every key below was read from the integration's own source (see each profile's
`source`); where a fact could not be verified that is said next to it. Unique-id
suffixes and prefixes are compared case-sensitively on purpose: Moonraker's G-code
macro buttons are `{entry_id}_PAUSE`, `{entry_id}_CANCEL_PRINT` and so on, and must not
be taken for its own `{entry_id}_pause_print` / `{entry_id}_cancel_print` buttons.

Pure data and matching: no Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import re
from typing import Protocol

ROLES: tuple[str, ...] = (
    "state",
    "camera",
    "pause",
    "resume",
    "stop",
    "job_name",
    "progress",
    "time_remaining",
    "material",
    "nozzle",
    "bed",
    "failure",
)

STATE_KEYS: tuple[str, ...] = (
    "printing",
    "paused",
    "finished",
    "stopped",
    "error",
    "idle",
)

_BUTTONS = ("button", "script", "input_button")
_NUMBERS = ("sensor", "number", "input_number")

# Role -> entity domains allowed for it (the config flow's entity selectors use this).
ROLE_DOMAINS: dict[str, tuple[str, ...]] = {
    "state": ("sensor", "binary_sensor", "select", "input_select", "text"),
    "camera": ("camera", "image"),
    "pause": _BUTTONS,
    "resume": _BUTTONS,
    "stop": _BUTTONS,
    "job_name": ("sensor", "text", "input_text"),
    "progress": _NUMBERS,
    "time_remaining": _NUMBERS,
    "material": ("sensor", "select", "text", "input_select", "input_text"),
    "nozzle": _NUMBERS,
    "bed": _NUMBERS,
    "failure": ("binary_sensor", "sensor"),
}

# State values for an integration without a profile (or a state entity the user chose
# by hand). Compared lowercase by the consumer.
DEFAULT_STATES: dict[str, tuple[str, ...]] = {
    "printing": ("printing", "running", "on"),
    "paused": ("paused", "pause", "pausing"),
    "finished": ("finished", "finish", "complete", "completed"),
    "stopped": ("stopped", "cancelled", "canceled", "cancelling"),
    "error": ("error", "failed", "failure"),
    "idle": ("idle", "ready", "standby", "operational", "off"),
}


@dataclass(frozen=True, kw_only=True)
class EntityMatch:
    """One way to recognise an entity of an integration.

    An entry matches when its entity domain is `domain` and any one of the given
    criteria holds. With no criterion at all nothing matches, unless `any_entity` is
    set: then every entity of that domain from the integration matches (for an
    integration that has exactly one entity of the domain and gives it no
    recognisable key, like OctoPrint's camera).
    """

    domain: str
    translation_keys: tuple[str, ...] = ()
    unique_id_suffixes: tuple[str, ...] = ()
    unique_id_prefixes: tuple[str, ...] = ()
    # Regular expressions the whole unique id must match (re.fullmatch).
    unique_id_patterns: tuple[str, ...] = ()
    any_entity: bool = False

    def matches(self, entry: RegistryEntryLike) -> bool:
        """Return whether a registry entry is this entity."""
        if entry.domain != self.domain:
            return False
        if self.any_entity:
            return True
        if entry.translation_key is not None and (
            entry.translation_key in self.translation_keys
        ):
            return True
        unique_id = str(entry.unique_id)
        if any(unique_id.endswith(suffix) for suffix in self.unique_id_suffixes):
            return True
        if any(unique_id.startswith(prefix) for prefix in self.unique_id_prefixes):
            return True
        return any(
            re.fullmatch(pattern, unique_id) for pattern in self.unique_id_patterns
        )


@dataclass(frozen=True, kw_only=True)
class Profile:
    """What Print Sentinel knows of one printer integration."""

    integration: str  # integration domain = the registry entry's `platform`
    title: str
    roles: Mapping[str, tuple[EntityMatch, ...]]  # role -> candidates, best first
    states: Mapping[str, tuple[str, ...]]  # STATE_KEYS -> raw state values, lowercase
    source: str  # where the facts come from (repo/path), for maintainers
    # States of the `failure` entity that mean "no failure" besides off/unknown/
    # unavailable, for a failure entity that is an enum sensor rather than a
    # binary sensor (Elegoo's print error sensor reads "none" when all is well).
    failure_ok_states: tuple[str, ...] = field(default=())


class RegistryEntryLike(Protocol):
    """The parts of an entity registry entry `propose` reads."""

    @property
    def entity_id(self) -> str:
        """The entity id (never used for matching)."""

    @property
    def domain(self) -> str:
        """The entity domain (sensor, button, camera, ...)."""

    @property
    def platform(self) -> str:
        """The integration that registered the entity."""

    @property
    def translation_key(self) -> str | None:
        """The entity's translation key, if the integration sets one."""

    @property
    def unique_id(self) -> str:
        """The integration's unique id of the entity."""

    @property
    def disabled_by(self) -> object:
        """Why the entity is disabled, None when enabled."""


def _m(domain: str, *keys: str, suffixes: tuple[str, ...] = ()) -> EntityMatch:
    """Shorthand: match by translation keys and/or unique-id suffixes."""
    return EntityMatch(
        domain=domain, translation_keys=keys, unique_id_suffixes=suffixes
    )


def _states(**values: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """A state mapping with every STATE_KEYS key (missing ones empty)."""
    unknown = set(values) - set(STATE_KEYS)
    if unknown:  # pragma: no cover - guards the tables below
        raise ValueError(f"unknown state keys {sorted(unknown)}")
    return {key: values.get(key, ()) for key in STATE_KEYS}


# --- ha-bambulab ------------------------------------------------------------------
# Every printer entity's unique id is f"{serial}_{description.key}" (sensor.py,
# binary_sensor.py, button.py, image.py: BambuLabSensor & co.; camera.py sets
# f"{serial}_camera"). Translation keys from definitions.py. Matching is by
# translation key only for the temperatures: a suffix "_nozzle_temp" would also match
# the "target_nozzle_temp" sensor. The print_status sensor is
# `gcode_state.lower()` or "offline", options GCODE_STATE_OPTIONS in pybambu/const.py:
# failed, finish, idle, init, offline, pause, prepare, running, slicing, unknown.
# Bambu has no separate "cancelled": a stopped print reads "failed". "prepare",
# "slicing", "init", "offline" and "unknown" are left unmapped (not yet printing / not
# known). The AMS and external spool entities belong to their own devices (via_device),
# so only "active_tray" (a printer sensor, state = the tray's filament name) is offered
# as material. The p1p_camera/cover_image images: p1p_camera is the P1/A1 chamber
# image (live, a few seconds apart); cover_image is the plate's preview picture, kept
# last as a camera of last resort.
BAMBU_LAB = Profile(
    integration="bambu_lab",
    title="Bambu Lab (ha-bambulab)",
    roles={
        "state": (_m("sensor", "print_status", suffixes=("_print_status",)),),
        "camera": (
            _m("camera", "camera", suffixes=("_camera",)),
            _m("image", "p1p_camera", suffixes=("_p1p_camera",)),
            _m("image", "cover_image", suffixes=("_cover_image",)),
        ),
        "pause": (_m("button", "pause", suffixes=("_pause",)),),
        "resume": (_m("button", "resume", suffixes=("_resume",)),),
        "stop": (_m("button", "stop", suffixes=("_stop",)),),
        "job_name": (
            _m("sensor", "subtask_name", suffixes=("_subtask_name",)),
            _m("sensor", "gcode_file", suffixes=("_gcode_file",)),
        ),
        "progress": (_m("sensor", "print_progress", suffixes=("_print_progress",)),),
        # Minutes (UnitOfTime.MINUTES, device_class duration).
        "time_remaining": (
            _m("sensor", "remaining_time", suffixes=("_remaining_time",)),
        ),
        "material": (_m("sensor", "active_tray"),),
        "nozzle": (_m("sensor", "nozzle_temp"),),
        "bed": (_m("sensor", "bed_temp"),),
        # print_error is on while the printer reports a print error (it pauses or
        # fails the print); hms_errors is on for any HMS message, warnings included.
        "failure": (
            _m("binary_sensor", "print_error", suffixes=("_print_error",)),
            _m("binary_sensor", "hms_errors", suffixes=("_hms",)),
        ),
    },
    states=_states(
        printing=("running",),
        paused=("pause",),
        finished=("finish",),
        error=("failed",),
        idle=("idle",),
    ),
    source=(
        "greghesp/ha-bambulab custom_components/bambu_lab/{definitions.py,sensor.py,"
        "binary_sensor.py,button.py,camera.py,image.py,pybambu/const.py}"
    ),
)

# --- OctoPrint (HA core) -----------------------------------------------------------
# Unique ids are f"{type}-{config_entry.unique_id}" (the OctoPrint server's UUID comes
# last), so they are matched by prefix: "Current State-", "Printing-", "Printing
# Error-", "Pause Job-", "Resume Job-", "Stop Job-", "Job Percentage-", "Estimated
# Finish Time-", "Current File-", f"{actual|target} {tool} temp-" (tool names are
# OctoPrint's: tool0, tool1, bed, chamber). Only the state ("status") and file name
# ("file_name") sensors have translation keys. The camera's unique id is the bare
# config entry unique id, so the integration's only camera is taken. The state sensor
# is an enum since HA 2025.x (_API_STATE_VALUE in sensor.py); before that it was
# OctoPrint's text ("Printing", "Printing from SD", "Paused", "Operational", ...),
# whose lowercase forms are listed too. OctoPrint returns to "operational" after a
# print; "finishing" is the brief moment before. Estimated Finish Time is a timestamp,
# not a duration: the consumer has to subtract now.
OCTOPRINT = Profile(
    integration="octoprint",
    title="OctoPrint",
    roles={
        "state": (
            EntityMatch(
                domain="sensor",
                translation_keys=("status",),
                unique_id_prefixes=("Current State-",),
            ),
            EntityMatch(domain="binary_sensor", unique_id_prefixes=("Printing-",)),
        ),
        "camera": (EntityMatch(domain="camera", any_entity=True),),
        "pause": (EntityMatch(domain="button", unique_id_prefixes=("Pause Job-",)),),
        "resume": (EntityMatch(domain="button", unique_id_prefixes=("Resume Job-",)),),
        "stop": (EntityMatch(domain="button", unique_id_prefixes=("Stop Job-",)),),
        "job_name": (
            EntityMatch(
                domain="sensor",
                translation_keys=("file_name",),
                unique_id_prefixes=("Current File-",),
            ),
        ),
        "progress": (
            EntityMatch(domain="sensor", unique_id_prefixes=("Job Percentage-",)),
        ),
        "time_remaining": (
            EntityMatch(
                domain="sensor", unique_id_prefixes=("Estimated Finish Time-",)
            ),
        ),
        "nozzle": (
            EntityMatch(domain="sensor", unique_id_prefixes=("actual tool0 temp-",)),
        ),
        "bed": (
            EntityMatch(domain="sensor", unique_id_prefixes=("actual bed temp-",)),
        ),
        "failure": (
            EntityMatch(
                domain="binary_sensor", unique_id_prefixes=("Printing Error-",)
            ),
        ),
    },
    states=_states(
        printing=("printing", "printing_sd", "printing from sd", "on"),
        paused=("paused", "pausing"),
        finished=("finishing",),
        stopped=("cancelling",),
        error=("error", "offline_after_error", "offline after error"),
        idle=("operational", "off"),
    ),
    source=(
        "home-assistant/core homeassistant/components/octoprint/{sensor.py,"
        "binary_sensor.py,button.py,camera.py,coordinator.py}"
    ),
)

# --- Moonraker (Klipper) -----------------------------------------------------------
# Unique ids are f"{entry.entry_id}_{description.key}" (sensor.py, button.py,
# binary_sensor.py); no entity has a translation key. "print_state" is Klipper's
# print_stats.state (PRINTSTATES in const.py: standby, printing, paused, complete,
# cancelled, error). Temperatures are f"{obj}_temp" for the Klipper objects
# "extruder" and "heater_bed". Webcams are f"{entry_id}_{webcam name}_{index}" (the
# name is the user's, from Moonraker's webcam list), matched by shape; the
# f"{entry_id}_thumbnail" camera is the G-code preview, kept last. Print Time Left is
# in hours. Moonraker has no filament type and no failure entity of its own (the
# "state" sensor is Klippy's ready/startup/shutdown/error, not a print failure).
MOONRAKER = Profile(
    integration="moonraker",
    title="Moonraker (Klipper)",
    roles={
        "state": (_m("sensor", suffixes=("_print_state",)),),
        "camera": (
            EntityMatch(domain="camera", unique_id_patterns=(r".+_\d+",)),
            _m("camera", suffixes=("_thumbnail",)),
        ),
        "pause": (_m("button", suffixes=("_pause_print",)),),
        "resume": (_m("button", suffixes=("_resume_print",)),),
        "stop": (_m("button", suffixes=("_cancel_print",)),),
        "job_name": (_m("sensor", suffixes=("_filename",)),),
        "progress": (_m("sensor", suffixes=("_progress",)),),
        "time_remaining": (
            _m("sensor", suffixes=("_print_time_left",)),
            _m("sensor", suffixes=("_slicer_print_time_left_estimate",)),
        ),
        "nozzle": (_m("sensor", suffixes=("_extruder_temp",)),),
        "bed": (_m("sensor", suffixes=("_heater_bed_temp",)),),
    },
    states=_states(
        printing=("printing",),
        paused=("paused",),
        finished=("complete",),
        stopped=("cancelled",),
        error=("error",),
        idle=("standby",),
    ),
    source=(
        "marcolivierarsenault/moonraker-home-assistant custom_components/moonraker/"
        "{sensor.py,button.py,camera.py,binary_sensor.py,const.py,entity.py}"
    ),
)

# --- PrusaLink (HA core) -----------------------------------------------------------
# Unique ids are f"{entry_id}_{description.key}", keys like "printer.state",
# "job.pause_job" (sensor.py, button.py); the camera is f"{entry_id}_job_preview" and
# shows the job's preview picture, not a live view (PrusaLink has no camera entity of
# its own). The state sensor is `PrinterState.value.lower()` (pyprusalink:
# idle, busy, printing, paused, finished, stopped, error, attention, ready). "busy" and
# "attention" (the printer waits for the user, e.g. after a filament runout) are left
# unmapped. "Print finish" is a timestamp. The "material" sensor only exists on the
# legacy API (older firmware). The continue_job button (leave "attention") is not a
# role. PrusaLink has no failure entity.
PRUSALINK = Profile(
    integration="prusalink",
    title="PrusaLink",
    roles={
        "state": (_m("sensor", "printer_state", suffixes=("_printer.state",)),),
        "camera": (_m("camera", "job_preview", suffixes=("_job_preview",)),),
        "pause": (_m("button", "pause_job", suffixes=("_job.pause_job",)),),
        "resume": (_m("button", "resume_job", suffixes=("_job.resume_job",)),),
        "stop": (_m("button", "cancel_job", suffixes=("_printer.cancel_job",)),),
        "job_name": (_m("sensor", "filename", suffixes=("_job.filename",)),),
        "progress": (_m("sensor", "progress", suffixes=("_job.progress",)),),
        "time_remaining": (_m("sensor", "print_finish", suffixes=("_job.finish",)),),
        "material": (
            _m("sensor", "material", suffixes=("_printer.telemetry.material",)),
        ),
        "nozzle": (
            _m(
                "sensor",
                "nozzle_temperature",
                suffixes=("_printer.telemetry.temp-nozzle",),
            ),
        ),
        "bed": (
            _m(
                "sensor",
                "heatbed_temperature",
                suffixes=("_printer.telemetry.temp-bed",),
            ),
        ),
    },
    states=_states(
        printing=("printing",),
        paused=("paused",),
        finished=("finished",),
        stopped=("stopped",),
        error=("error",),
        idle=("idle", "ready"),
    ),
    source=(
        "home-assistant/core homeassistant/components/prusalink/{sensor.py,button.py,"
        "camera.py,entity.py}; pyprusalink types.PrinterState"
    ),
)

# --- Elegoo (elegoo-homeassistant) -------------------------------------------------
# Unique ids are coordinator.generate_unique_id(key): f"{machine_id}_{key}" in current
# releases, f"{printer name, lowercase, spaces -> _}_{key}" in older ones; both end
# with f"_{key}". Only current_status, print_status, print_error and
# error_status_reason have translation keys. print_status is
# ElegooPrintStatus.name.lower(): idle, homing, dropping, printing (named
# "exposuring" before), lifting, pausing, paused, stopping, stopped, complete,
# file_checking, loading, preheating, leveling; the CC2 client's variant also has
# completed and error (not verified against a live printer). The camera key was
# "centauri_carbon_camera" and is "chamber_camera" now; "cover_image" (image) is the
# job's thumbnail. Remaining Print Time ("ticks_remaining") is natively in
# milliseconds with minutes as its suggested unit, so its state normally reads minutes.
# print_error is an enum sensor reading "none" when there is no error.
# The active filament has only a colour sensor (type per slot in "aN_attributes"), so
# no material role. Buttons exist on FDM printers only.
ELEGOO = Profile(
    integration="elegoo_printer",
    title="Elegoo (elegoo-homeassistant)",
    roles={
        "state": (
            _m("sensor", "print_status", suffixes=("_print_status",)),
            _m("sensor", "current_status", suffixes=("_current_status",)),
        ),
        "camera": (
            _m("camera", suffixes=("_chamber_camera", "_centauri_carbon_camera")),
            _m("image", suffixes=("_cover_image",)),
        ),
        "pause": (_m("button", suffixes=("_pause_print",)),),
        "resume": (_m("button", suffixes=("_resume_print",)),),
        "stop": (_m("button", suffixes=("_stop_print",)),),
        "job_name": (_m("sensor", suffixes=("_filename",)),),
        "progress": (_m("sensor", suffixes=("_percent_complete",)),),
        "time_remaining": (_m("sensor", suffixes=("_ticks_remaining",)),),
        "nozzle": (_m("sensor", suffixes=("_nozzle_temp",)),),
        "bed": (_m("sensor", suffixes=("_bed_temp",)),),
        "failure": (_m("sensor", "print_error", suffixes=("_print_error",)),),
    },
    states=_states(
        printing=("printing", "exposuring", "lifting", "dropping"),
        paused=("paused", "pausing"),
        finished=("complete", "completed"),
        stopped=("stopped", "stopping"),
        error=("error",),
        idle=("idle",),
    ),
    source=(
        "danielcherubini/elegoo-homeassistant custom_components/elegoo_printer/"
        "{definitions.py,button.py,camera.py,image.py,entity.py,coordinator.py,"
        "sdcp/models/enums.py}"
    ),
    failure_ok_states=("none",),
)

PROFILES: dict[str, Profile] = {
    profile.integration: profile
    for profile in (BAMBU_LAB, OCTOPRINT, MOONRAKER, PRUSALINK, ELEGOO)
}


def profile_for(integration: str | None) -> Profile | None:
    """The profile of an integration domain, None when there is none."""
    if integration is None:
        return None
    return PROFILES.get(integration)


def states_for(profile: Profile | None) -> dict[str, tuple[str, ...]]:
    """The raw state values per STATE_KEYS key: the profile's or the defaults."""
    source = DEFAULT_STATES if profile is None else profile.states
    return {key: tuple(source.get(key, ())) for key in STATE_KEYS}


def propose(
    profile: Profile | None, entries: Iterable[RegistryEntryLike]
) -> dict[str, str]:
    """Propose role -> entity_id for a device's entity registry entries.

    Disabled entries are skipped. For each role the first candidate (in the profile's
    preference order) that matches an entry wins; among several entries matching the
    same candidate the first in `entries` wins. An entity is used for at most one role.
    Only entries registered by the profile's integration are considered. Without a
    profile only a camera is proposed: the first camera, else the first image.
    """
    enabled = [entry for entry in entries if entry.disabled_by is None]
    if profile is None:
        for domain in ("camera", "image"):
            for entry in enabled:
                if entry.domain == domain:
                    return {"camera": entry.entity_id}
        return {}

    own = [entry for entry in enabled if entry.platform == profile.integration]
    used: set[str] = set()
    proposal: dict[str, str] = {}
    for role in ROLES:
        for candidate in profile.roles.get(role, ()):
            found = next(
                (
                    entry
                    for entry in own
                    if entry.entity_id not in used and candidate.matches(entry)
                ),
                None,
            )
            if found is not None:
                proposal[role] = found.entity_id
                used.add(found.entity_id)
                break
    return proposal
