"""A printer another Home Assistant integration already has, read through its entities.

Bambu Lab (ha-bambulab), OctoPrint, Klipper (Moonraker), PrusaLink, Elegoo and any
other printer integration give a state entity, a camera and pause/resume/stop
buttons. This backend reads those entities' states (nothing goes over the network:
the other integration polls or is pushed to) and presses their buttons, so
detection, the failure response, notifications and blueprints work for that printer
as for any other. Which entity plays which role, and which state values mean
printing, paused and so on, the config flow stores in the entry (proposed from
`ha_profiles`, changeable by the user).

A state entity that is missing, `unavailable` or `unknown` makes the printer
unreachable (the coordinator logs that once and marks the entities unavailable):
never a guess, never a pause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
import logging
from typing import Any, Final

from homeassistant.components.camera import async_get_image as async_get_camera_image
from homeassistant.components.image import async_get_image as async_get_image_entity
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfTemperature,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceNotFound
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from .base import (
    ACTIVE_STATES,
    PRINTER_FAILURE,
    Capability,
    JobSnapshot,
    PrinterCommandRefused,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterIdentity,
    PrinterSnapshot,
    PrinterState,
    SeenOnce,
    bounded_duration,
    bounded_number,
    bounded_progress,
    bounded_text,
)
from .ha_device_jobs import RunningPrint, running_prints

_LOGGER = logging.getLogger(__name__)

STATE_ROLES: Final = {
    "printing": PrinterState.PRINTING,
    "paused": PrinterState.PAUSED,
    "finished": PrinterState.FINISHED,
    "stopped": PrinterState.STOPPED,
    "error": PrinterState.ERROR,
    "idle": PrinterState.IDLE,
}
"""The state keys the user maps values to, and the normalised state of each."""

_COMMANDS: Final = {
    "button": "press",
    "input_button": "press",
    "script": "turn_on",
}
"""How a pause/resume/stop entity is run, per entity domain."""
_IN_JOB: Final = ACTIVE_STATES | {PrinterState.ATTENTION}
"""States within a print: an unmapped value there is a stop, not the print's end."""
_OFFLINE: Final = frozenset({"offline", "disconnected"})
"""Unmapped state values that say the printer is not connected: unreachable."""
_NOT_A_VALUE: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN, "", "none"})
_NO_FAILURE: Final = frozenset({"off", "0", "false", "ok", "no error", "no_error"})
_DURATION_UNITS: Final = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
_FOLLOWED_ROLES: Final = (
    "state",
    "job_name",
    "progress",
    "time_remaining",
    "material",
    "nozzle",
    "bed",
    "failure",
)
"""Roles whose changes refresh the printer at once (not buttons, not the camera)."""


class HaDeviceBackend:
    """A printer watched through another integration's entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        device_id: str,
        entities: Mapping[str, str],
        states: Mapping[str, Sequence[str]],
        *,
        name: str | None = None,
    ) -> None:
        """Watch the device's entities; `entities` maps a role to an entity id."""
        self._hass = hass
        self._device_id = device_id
        self._entities = {role: eid for role, eid in entities.items() if eid}
        self._values: dict[str, PrinterState] = {}
        for key, printer_state in STATE_ROLES.items():
            for value in states.get(key, ()):
                self._values.setdefault(str(value).strip().lower(), printer_state)
        self._name = name
        self._strange = SeenOnce()
        self._job_started: str | None = None
        self._last_state = PrinterState.UNKNOWN
        self._jobs = running_prints(hass)
        """When each watched device's running print started, across restarts."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Material and camera where the user picked an entity for them."""
        capabilities: set[Capability] = set()
        if "camera" in self._entities:
            capabilities.add(Capability.CAMERA)
        if "material" in self._entities:
            capabilities.add(Capability.MATERIAL)
        return frozenset(capabilities)

    @property
    def unreported(self) -> frozenset[str]:
        """Sensor keys this printer never reports: no entity for them."""
        # no role gives motion, speed, flow, print time or temperature targets
        missing = {
            "z_height",
            "print_speed",
            "flow",
            "time_printing",
            "nozzle_target",
            "bed_target",
        }
        for role, keys in (
            ("job_name", {"job_name"}),
            ("progress", {"progress"}),
            ("time_remaining", {"time_remaining", "estimated_finish"}),
            ("nozzle", {"nozzle_temperature"}),
            ("bed", {"bed_temperature"}),
        ):
            if role not in self._entities:
                missing |= keys
        return frozenset(missing)

    async def async_get_identity(self) -> PrinterIdentity:
        """Who the printer is: its device in Home Assistant's device registry."""
        device = dr.async_get(self._hass).async_get(self._device_id)
        if device is None:
            raise PrinterConnectionError(
                "the printer's device is no longer in Home Assistant"
            )
        return PrinterIdentity(
            unique_id=self._device_id,
            name=self._name or device.name_by_user or device.name or "3D printer",
            # a child device (HA 2026.x) carries no model of its own
            model=getattr(device, "model", None),
            serial_number=getattr(device, "serial_number", None),
            firmware=getattr(device, "sw_version", None),
            manufacturer=getattr(device, "manufacturer", None),
            configuration_url=getattr(device, "configuration_url", None),
            device_id=self._device_id,
        )

    async def async_poll(self) -> PrinterSnapshot:
        """Read the entities' current states (no I/O but the first read of its ids)."""
        await self._jobs.async_load()
        entity_id = self._entities["state"]
        state = self._hass.states.get(entity_id)
        if state is None:
            raise PrinterConnectionError(
                f"its state entity {entity_id} is not in Home Assistant "
                "(removed, or its integration is not loaded)"
            )
        if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            raise PrinterConnectionError(f"{entity_id} is {state.state}")
        raw = state.state.strip().lower()
        printer_state = self._values.get(raw)
        if printer_state is None and raw in _OFFLINE:
            raise PrinterConnectionError(f"{entity_id} is {raw}")
        if printer_state is None:
            in_job = self._last_state in _IN_JOB or (
                # the first poll after a reload, of a print it had
                self._last_state is PrinterState.UNKNOWN
                and self._device_id in self._jobs
            )
            if self._strange.add(raw):
                _LOGGER.info(
                    "%s reports %r, which no state value of the printer's settings "
                    "names; it counts as %s (reconfigure to map it)",
                    entity_id,
                    self._strange.shorten(raw),
                    "a stop within the print" if in_job else "busy",
                )
            # mid-print (a prompt, a glitch) the print goes on: not its end
            printer_state = PrinterState.ATTENTION if in_job else PrinterState.BUSY
        extra: dict[str, float | int | str | None] = {
            PRINTER_FAILURE: self._printer_failure()
        }
        snapshot = PrinterSnapshot(
            state=printer_state,
            raw_state=bounded_text(state.state),
            nozzle_temperature=self._temperature("nozzle"),
            bed_temperature=self._temperature("bed"),
            material=self._text("material"),
            job=self._job(printer_state),
            extra=extra,
        )
        self._last_state = printer_state
        return snapshot

    def _job(self, printer_state: PrinterState) -> JobSnapshot | None:
        """The job, while one runs or has just ended; its id names this print."""
        name = self._text("job_name")
        progress = bounded_progress(self._number("progress"))
        first = self._last_state is PrinterState.UNKNOWN
        if first and printer_state in _IN_JOB:
            # found running after a reload or restart: the print it had keeps its
            # id, unless another started meanwhile (other file, less progress)
            kept = self._jobs.get(self._device_id)
            if kept is not None and kept.same_print(name, progress):
                self._job_started = kept.start
        if printer_state in ACTIVE_STATES and (
            self._job_started is None or (not first and self._last_state not in _IN_JOB)
        ):
            # a print (re)appeared: it gets an id of its own, so printing the same
            # file again is a new print for detection
            self._job_started = dt_util.utcnow().isoformat(timespec="seconds")
        if printer_state not in _IN_JOB:
            self._jobs.set(self._device_id, None)
        elif self._job_started is not None:
            self._jobs.set(
                self._device_id, RunningPrint(self._job_started, name, progress)
            )
        if self._job_started is None:
            return None
        return JobSnapshot(
            # not the name: it may come late or flicker, which is no new print
            id=f"print@{self._job_started}",
            name=name,
            progress=progress,
            time_remaining=self._duration("time_remaining"),
        )

    def _value(self, role: str) -> str | None:
        if (entity_id := self._entities.get(role)) is None:
            return None
        state = self._hass.states.get(entity_id)
        if state is None or state.state.strip().lower() in _NOT_A_VALUE:
            return None
        return state.state

    def _text(self, role: str) -> str | None:
        text = bounded_text(self._value(role))
        if text is None or text.strip(" -") == "":
            return None  # "-", " - ": nothing loaded
        return text

    def _number(self, role: str) -> float | None:
        try:
            return bounded_number(float(self._value(role) or "nan"))
        except ValueError:
            return None

    def _temperature(self, role: str) -> float | None:
        value = self._number(role)
        if value is None:
            return None
        state = self._hass.states.get(self._entities[role])
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
        if unit in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
            value = TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS)
        return bounded_number(value, -100.0, 1000.0)

    def _duration(self, role: str) -> int | None:
        """Seconds left: from a duration in s/min/h/d, or a finish timestamp."""
        if (raw := self._value(role)) is None:
            return None
        state = self._hass.states.get(self._entities[role])
        if state is not None and state.attributes.get("device_class") == "timestamp":
            if not raw.isascii():
                # a timestamp is ASCII; the C parser HA uses (ciso8601) crashes the
                # whole process on a lone surrogate instead of raising
                return None
            try:
                finish: datetime | None = dt_util.parse_datetime(raw)
            except ValueError:  # "2026-13-01T...": shaped like a date, but none
                return None
            if finish is None:
                return None
            if finish.tzinfo is None:  # no offset: Home Assistant's time zone
                finish = finish.replace(tzinfo=dt_util.get_default_time_zone())
            return bounded_duration((finish - dt_util.utcnow()).total_seconds())
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
        try:
            number = float(raw)
        except ValueError:
            return None
        return bounded_duration(number * _DURATION_UNITS.get(str(unit), 1))

    def _printer_failure(self) -> str | None:
        """What the printer's own failure detection reports, if it reports one."""
        if (value := self._value("failure")) is None:
            return None
        if value.strip().lower() in _NO_FAILURE:
            return None
        state = self._hass.states.get(self._entities["failure"])
        name = state.name if state is not None else self._entities["failure"]
        return bounded_text(name if value.lower() == "on" else f"{name}: {value}")

    async def async_pause(self) -> None:
        """Press the printer's pause entity."""
        await self._async_run("pause")

    async def async_resume(self) -> None:
        """Press the printer's resume entity."""
        await self._async_run("resume")

    async def async_cancel(self) -> None:
        """Press the printer's stop entity."""
        await self._async_run("stop")

    async def async_continue(self) -> None:
        """These printers have no attention state to continue from."""
        raise PrinterCommandUnsupported("continue")

    async def _async_run(self, role: str) -> None:
        if (entity_id := self._entities.get(role)) is None:
            raise PrinterCommandUnsupported(f"no {role} entity was chosen")
        domain = entity_id.split(".", 1)[0]
        if (service := _COMMANDS.get(domain)) is None:
            raise PrinterCommandUnsupported(f"{entity_id} cannot be pressed")
        state = self._hass.states.get(entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            raise PrinterConnectionError(f"{entity_id} is unavailable")
        try:
            await self._hass.services.async_call(
                domain, service, {"entity_id": entity_id}, blocking=True
            )
        except ServiceNotFound as err:
            raise PrinterCommandUnsupported(f"{domain}.{service}") from err
        except HomeAssistantError as err:
            raise PrinterCommandRefused(f"{entity_id}: {err}") from err
        except Exception as err:  # another integration's library, anything
            # a button of another integration may raise what its library raises
            # (a connection error, RuntimeError): the press failed, like a refusal
            raise PrinterCommandRefused(
                f"{entity_id} failed ({type(err).__name__})"
            ) from err

    async def async_get_thumbnail(self) -> bytes | None:
        """No thumbnail: the other integration shows its own."""
        return None

    async def async_get_camera_image(self) -> bytes | None:
        """A picture from the printer's camera or image entity."""
        if (entity_id := self._entities.get("camera")) is None:
            return None
        try:
            if entity_id.startswith("image."):
                return (await async_get_image_entity(self._hass, entity_id)).content
            return (await async_get_camera_image(self._hass, entity_id)).content
        except (HomeAssistantError, OSError, TimeoutError, ValueError) as err:
            # another integration's camera failing is no picture, never an error
            _LOGGER.debug("No picture from %s: %s", entity_id, err)
            return None

    def async_subscribe(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call `on_change` whenever one of the printer's entities changes state."""
        followed = [
            entity_id
            for role, entity_id in self._entities.items()
            if role in _FOLLOWED_ROLES
        ]

        @callback
        def _changed(_event: Event[EventStateChangedData]) -> None:
            on_change()

        return async_track_state_change_event(self._hass, followed, _changed)

    def diagnostics(self) -> dict[str, Any]:
        """Which entities play which role (entity ids are no secrets)."""
        return {
            "device_id": self._device_id,
            "entities": dict(self._entities),
            "state_values": {
                value: state.value for value, state in self._values.items()
            },
            "unmapped_values": self._strange.values(),
        }
