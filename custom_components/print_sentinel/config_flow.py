"""Config flow for Print Sentinel: add a printer in the UI.

The `user` menu offers one option per printer type (`printer_types.PRINTER_TYPES`);
each option is also the first step of that type, whose steps live in its own flow
mixin (`prusalink_flow`, `repetier_flow`, `ha_device_flow`). Each entry stores its
type as `CONF_PRINTER_TYPE`; reauth and reconfigure look the type up in the registry
and hand over to the method it names. A new printer type touches this module not
at all (see the recipe in `printer_types`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback

from .const import CONF_PRINTER_TYPE, DOMAIN
from .options_flow import PrintSentinelOptionsFlow
from .printer_types import PRINTER_TYPES, PrinterFlows
from .runtime import PrintSentinelConfigEntry


class PrintSentinelConfigFlow(PrinterFlows, ConfigFlow, domain=DOMAIN):
    """Add a printer."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Initialise the flow."""
        self._discovered: dict[str, Any] = {}
        self._ha_device: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(
        entry: PrintSentinelConfigEntry,
    ) -> OptionsFlowWithReload:
        """Return the options flow."""
        return PrintSentinelOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick the kind of printer."""
        return self.async_show_menu(step_id="user", menu_options=list(PRINTER_TYPES))

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The printer refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials, as the entry's printer type does."""
        printer_type = PRINTER_TYPES.get(
            self._get_reauth_entry().data.get(CONF_PRINTER_TYPE, "")
        )
        if printer_type is None or printer_type.reauth is None:
            return self.async_abort(reason="unsupported_printer_type")
        step = getattr(self, printer_type.reauth)
        result: ConfigFlowResult = await step(user_input)
        return result

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the printer's address, credentials or entities."""
        printer_type = PRINTER_TYPES.get(
            self._get_reconfigure_entry().data.get(CONF_PRINTER_TYPE, "")
        )
        if printer_type is None or printer_type.reconfigure is None:
            return self.async_abort(reason="unsupported_printer_type")
        step = getattr(self, printer_type.reconfigure)
        result: ConfigFlowResult = await step(user_input)
        return result
