"""Device conditions: whether the printer is printing, paused, idle or in trouble.

Each condition reads the printer's State sensor, found in the entity registry by its
unique id each time the condition is checked, so renaming the sensor does not break
automations.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.const import (
    CONF_CONDITION,
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_TYPE,
    Platform,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import condition
from homeassistant.helpers.config_validation import DEVICE_CONDITION_BASE_SCHEMA
from homeassistant.helpers.typing import ConfigType, TemplateVarsType
import probatio

from .const import DOMAIN
from .device_trigger import async_find_device_entity_id

STATE_SENSOR: Final = "state"

CONDITIONS: Final[dict[str, frozenset[str]]] = {
    "is_printing": frozenset({"printing"}),
    "is_paused": frozenset({"paused"}),
    # Not working on a job and not in trouble: a finished or cancelled print only
    # waits for the bed to be cleared.
    "is_idle": frozenset({"idle", "ready", "finished", "stopped"}),
    "has_problem": frozenset({"error", "attention"}),
}

CONDITION_SCHEMA = DEVICE_CONDITION_BASE_SCHEMA.extend(
    {probatio.Required(CONF_TYPE): probatio.In(list(CONDITIONS))}
)


async def async_get_conditions(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, Any]]:
    """List the conditions of a printer that has a State sensor."""
    if (
        async_find_device_entity_id(hass, device_id, Platform.SENSOR, STATE_SENSOR)
        is None
    ):
        return []
    return [
        {
            CONF_CONDITION: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: condition_type,
        }
        for condition_type in CONDITIONS
    ]


@callback
def async_condition_from_config(
    hass: HomeAssistant, config: ConfigType
) -> condition.ConditionCheckerType:
    """Return a checker testing whether the printer is in the condition's states."""
    device_id: str = config[CONF_DEVICE_ID]
    states = CONDITIONS[config[CONF_TYPE]]

    def test_state(hass: HomeAssistant, variables: TemplateVarsType = None) -> bool:
        """Test the printer's state now."""
        entity_id = async_find_device_entity_id(
            hass, device_id, Platform.SENSOR, STATE_SENSOR
        )
        if entity_id is None or (state := hass.states.get(entity_id)) is None:
            return False
        return state.state in states

    return test_state
