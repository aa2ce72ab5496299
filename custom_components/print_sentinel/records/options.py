"""The options of the print records (a step of the options flow)."""

from __future__ import annotations

from homeassistant.helpers import selector
import probatio as vol

from .const import (
    CONF_RECORDS_KEEP,
    CONF_RECORDS_MAX_MB,
    CONF_TIMELAPSE_INTERVAL,
    CONF_TIMELAPSE_MODE,
    DEFAULT_RECORDS_KEEP,
    DEFAULT_RECORDS_MAX_MB,
    DEFAULT_TIMELAPSE_INTERVAL,
    DEFAULT_TIMELAPSE_MODE,
    MAX_TIMELAPSE_INTERVAL,
    MIN_TIMELAPSE_INTERVAL,
    TIMELAPSE_MODES,
)


def _number(
    minimum: int, maximum: int, unit: str | None = None
) -> selector.NumberSelector:
    """A whole number within bounds (the selector refuses anything outside)."""
    config = selector.NumberSelectorConfig(
        min=minimum, max=maximum, step=1, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


RECORDS_SCHEMA = vol.Schema(
    {
        vol.Required(
            CONF_TIMELAPSE_MODE, default=DEFAULT_TIMELAPSE_MODE
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=list(TIMELAPSE_MODES),
                translation_key=CONF_TIMELAPSE_MODE,
                mode=selector.SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Required(
            CONF_TIMELAPSE_INTERVAL, default=DEFAULT_TIMELAPSE_INTERVAL
        ): _number(MIN_TIMELAPSE_INTERVAL, MAX_TIMELAPSE_INTERVAL, "s"),
        vol.Required(CONF_RECORDS_KEEP, default=DEFAULT_RECORDS_KEEP): _number(1, 500),
        vol.Required(CONF_RECORDS_MAX_MB, default=DEFAULT_RECORDS_MAX_MB): _number(
            10, 100_000, "MB"
        ),
    }
)
