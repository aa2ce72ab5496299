"""Config flow steps for a printer another Home Assistant integration already has.

1. `ha_device`: the user picks the printer's device (of any integration) and may
   name it. A device is added once (its id is the entry's unique id); Print
   Sentinel's own devices are refused.
2. `ha_entities`: which entity gives the print state, the camera, pause, resume and
   stop (buttons, input buttons or scripts), and where they exist job name,
   progress, time remaining, material, temperatures and the printer's own failure
   detection; and which state values mean printing, paused, finished, stopped,
   error and idle. `ha_profiles` proposes all of it for known integrations (by
   integration domain and translation key or unique id, never by entity id); every
   proposal can be changed, and an integration without a profile gets the generic
   state values. Reconfigure shows this step again with the entry's choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlowResult
from homeassistant.const import CONF_DEVICE_ID, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, selector
import probatio as vol

from .const import (
    CONF_ENTITIES,
    CONF_PRINTER_TYPE,
    CONF_STATES,
    DOMAIN,
    PRINTER_TYPE_HA_DEVICE,
)
from .flow_base import FlowBase, name_error
from .printers.ha_device import HaDeviceBackend
from .printers.ha_profiles import (
    ROLE_DOMAINS,
    ROLES,
    STATE_KEYS,
    profile_for,
    propose,
    states_for,
)
from .validation import has_control_chars

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

MAX_STATE_VALUES: Final = 20
"""Values per state list (and their length) a form may carry."""
MAX_STATE_VALUE_LENGTH: Final = 64
_COMMAND_ROLES: Final = ("pause", "resume", "stop")
"""Roles that press an entity: each needs one of its own."""


def entity_field(role: str) -> str:
    """The form field of a role: `state` -> `state_entity`."""
    return f"{role}_entity"


def states_field(key: str) -> str:
    """The form field of a state key: `printing` -> `printing_states`."""
    return f"{key}_states"


def _integration_of(hass: Any, device: Any) -> str | None:
    entry = (
        hass.config_entries.async_get_entry(device.config_entry_id)
        if device.config_entry_id
        else None
    )
    return entry.domain if entry is not None else None


def _entities_schema(state_options: Sequence[str]) -> vol.Schema:
    fields: dict[Any, Any] = {}
    for role in ROLES:
        marker = vol.Required if role == "state" else vol.Optional
        fields[marker(entity_field(role))] = selector.EntitySelector(
            selector.EntitySelectorConfig(domain=list(ROLE_DOMAINS[role]))
        )
    for key in STATE_KEYS:
        fields[vol.Optional(states_field(key))] = selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=list(state_options),
                multiple=True,
                custom_value=True,
                sort=True,
            )
        )
    return vol.Schema(fields)


def _form_values(
    entities: Mapping[str, str], states: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    values: dict[str, Any] = {
        entity_field(role): entity_id for role, entity_id in entities.items()
    }
    values |= {states_field(key): list(values_) for key, values_ in states.items()}
    return values


def _clean_states(user_input: Mapping[str, Any]) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for key in STATE_KEYS:
        raw = user_input.get(states_field(key)) or []
        if isinstance(raw, str):
            raw = [raw]
        values: dict[str, None] = {}  # ordered, and no quadratic look-ups
        for value in raw if isinstance(raw, list) else []:
            if text := " ".join(str(value).split()).lower():
                values[text] = None
        states[key] = list(values)
    return states


def _state_limit_errors(states: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Refuse what the entry could not keep, instead of cutting it silently."""
    for key in STATE_KEYS:
        values = states.get(key, ())
        if len(values) > MAX_STATE_VALUES:
            return {states_field(key): "too_many_state_values"}
        if any(len(value) > MAX_STATE_VALUE_LENGTH for value in values):
            return {states_field(key): "state_value_too_long"}
        if any(has_control_chars(value) for value in values):
            return {states_field(key): "invalid_state_value"}
    return {}


def create_ha_device_backend(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> HaDeviceBackend:
    """Build the backend of an entry watching another integration's printer."""
    return HaDeviceBackend(
        hass,
        data[CONF_DEVICE_ID],
        data.get(CONF_ENTITIES, {}),
        data.get(CONF_STATES, {}),
        name=data.get(CONF_NAME),
    )


class HaDeviceFlowMixin(FlowBase):
    """The `ha_device` and `ha_entities` steps of `PrintSentinelConfigFlow`."""

    _ha_device: dict[str, Any]

    async def async_step_ha_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the printer's device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device_id = str(user_input.get(CONF_DEVICE_ID) or "")
            name = " ".join(str(user_input.get(CONF_NAME) or "").split())
            device = dr.async_get(self.hass).async_get(device_id)
            integration = (
                _integration_of(self.hass, device) if device is not None else None
            )
            if device is None:
                errors = {CONF_DEVICE_ID: "device_not_found"}
            elif integration == DOMAIN:
                errors = {CONF_DEVICE_ID: "own_device"}
            elif (name_problem := name_error(name)) is not None:
                errors = {CONF_NAME: name_problem}
            else:
                await self.async_set_unique_id(device_id)
                self._abort_if_unique_id_configured()
                self._ha_device = {
                    CONF_DEVICE_ID: device_id,
                    CONF_NAME: name or None,
                    "integration": integration,
                    "device_name": device.name_by_user or device.name or device_id,
                }
                return await self.async_step_ha_entities()
        return self.async_show_form(
            step_id="ha_device",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_DEVICE_ID): selector.DeviceSelector(),
                        vol.Optional(CONF_NAME): str,
                    }
                ),
                user_input or {},
            ),
            errors=errors,
        )

    async def async_reconfigure_ha_device(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Reconfigure: the entities and state values again (step `ha_entities`)."""
        return await self.async_step_ha_entities()

    def _ha_proposal(
        self,
    ) -> tuple[dict[str, str], dict[str, list[str]], str | None]:
        """What the device's profile proposes, or what the entry has (reconfigure)."""
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return (
                dict(entry.data.get(CONF_ENTITIES, {})),
                {k: list(v) for k, v in entry.data.get(CONF_STATES, {}).items()},
                None,
            )
        profile = profile_for(self._ha_device.get("integration"))
        entries = er.async_entries_for_device(
            er.async_get(self.hass), self._ha_device[CONF_DEVICE_ID]
        )
        return (
            propose(profile, entries),
            {key: list(values) for key, values in states_for(profile).items()},
            profile.title if profile else None,
        )

    async def async_step_ha_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Say which entity does what, and which state values mean what."""
        entities, states, profile_title = self._ha_proposal()
        errors: dict[str, str] = {}
        if user_input is not None:
            entities, errors = self._validated_entities(user_input)
            states = _clean_states(user_input)
            if not errors:
                errors = _state_limit_errors(states) or _state_errors(states)
            if not errors:
                return self._ha_finish(entities, states)
        state_entity = entities.get("state")
        current = self.hass.states.get(state_entity) if state_entity else None
        options = sorted(
            {value for values in states.values() for value in values}
            | ({current.state.lower()} if current is not None else set())
        )
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            device_name = entry.title
            integration = ""
        else:
            device_name = self._ha_device["device_name"]
            integration = self._ha_device.get("integration") or ""
        return self.async_show_form(
            step_id="ha_entities",
            data_schema=self.add_suggested_values_to_schema(
                _entities_schema(options),
                user_input
                if user_input is not None
                else _form_values(entities, states),
            ),
            errors=errors,
            description_placeholders={
                "device": device_name,
                "profile": profile_title or integration or "-",
                "state": current.state if current is not None else "-",
            },
        )

    def _validated_entities(
        self, user_input: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        entities: dict[str, str] = {}
        errors: dict[str, str] = {}
        for role in ROLES:
            entity_id = str(user_input.get(entity_field(role)) or "").strip()
            if not entity_id:
                continue
            if entity_id.split(".", 1)[0] not in ROLE_DOMAINS[role]:
                errors[entity_field(role)] = "wrong_domain"
            elif self.hass.states.get(entity_id) is None and not er.async_get(
                self.hass
            ).async_get(entity_id):
                errors[entity_field(role)] = "entity_not_found"
            else:
                entities[role] = entity_id
        if "state" not in entities and entity_field("state") not in errors:
            errors[entity_field("state")] = "entity_not_found"
        pressed: set[str] = set()
        for role in _COMMAND_ROLES:
            if (command := entities.get(role)) is None:
                continue
            if command in pressed:
                # a stop that is also the pause would cancel the print it pauses
                errors[entity_field(role)] = "same_entity_in_two_roles"
            pressed.add(command)
        return entities, errors

    def _ha_finish(
        self, entities: dict[str, str], states: dict[str, list[str]]
    ) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            entry: ConfigEntry = self._get_reconfigure_entry()
            return self.async_update_reload_and_abort(
                entry, data_updates={CONF_ENTITIES: entities, CONF_STATES: states}
            )
        name = self._ha_device.get(CONF_NAME)
        return self.async_create_entry(
            title=name or self._ha_device["device_name"],
            data={
                CONF_PRINTER_TYPE: PRINTER_TYPE_HA_DEVICE,
                CONF_DEVICE_ID: self._ha_device[CONF_DEVICE_ID],
                **({CONF_NAME: name} if name else {}),
                CONF_ENTITIES: entities,
                CONF_STATES: states,
            },
        )


def _state_errors(states: Mapping[str, Sequence[str]]) -> dict[str, str]:
    if not states.get("printing"):
        return {states_field("printing"): "no_printing_state"}
    if not states.get("paused"):
        return {states_field("paused"): "no_paused_state"}
    seen: set[str] = set()
    for key in STATE_KEYS:
        for value in states.get(key, ()):
            if value in seen:
                return {states_field(key): "state_in_two_lists"}
            seen.add(value)
    return {}
