"""The printer types: one registry entry per printer family.

A printer type is what the config flow's `user` menu offers and what an entry stores
as `CONF_PRINTER_TYPE`. Its entry says how to build the backend from the entry's
data, which flow mixin holds its steps (the first step is `async_step_<key>`), which
mixin methods answer reauth and reconfigure, and which of its data keys are secrets
(never in logs or diagnostics).

Adding a printer type (OctoPrint's API directly, Moonraker, ...) touches:

1. `printers/<name>.py`: the backend (`printers/base.py` says what it implements);
2. `<name>_flow.py`: a flow mixin with `async_step_<name>` (and further steps), its
   reauth and reconfigure methods, `create_<name>_backend`, and its `PrinterType`;
3. this module: the `PrinterType` in `PRINTER_TYPES` and its mixin in
   `PrinterFlows` (both lines side by side below);
4. `strings.json` (then `translations/en.json`): the menu option, steps and errors;
5. `simulators/<name>.py` and its tests.

Nothing else dispatches on the printer type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant

from .const import PRINTER_TYPE_HA_DEVICE, PRINTER_TYPE_PRUSALINK, PRINTER_TYPE_REPETIER
from .ha_device_entities import async_follow_entities
from .ha_device_flow import HaDeviceFlowMixin, create_ha_device_backend
from .printers.base import PrinterBackend
from .prusalink_flow import PrusaLinkFlowMixin, create_prusalink_backend
from .repetier_flow import RepetierFlowMixin, create_repetier_backend


@dataclass(frozen=True, kw_only=True)
class PrinterType:
    """One printer family, as the setup and the config flow see it."""

    key: str
    """The menu option, the first step (`async_step_<key>`), `CONF_PRINTER_TYPE`."""
    create_backend: Callable[[HomeAssistant, Mapping[str, Any]], PrinterBackend]
    """Build the backend from an entry's data (no I/O)."""
    reauth: str | None = None
    """The flow method answering `reauth_confirm`; None: nothing to re-enter."""
    reconfigure: str | None = None
    """The flow method answering `reconfigure`."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    """Entry data keys that are secrets."""
    follow: Callable[[HomeAssistant, ConfigEntry], CALLBACK_TYPE] | None = None
    """What keeps a loaded entry pointed at its printer (renamed entities, ...);
    returns what stops it."""


PRINTER_TYPES: dict[str, PrinterType] = {
    printer_type.key: printer_type
    for printer_type in (
        PrinterType(
            key=PRINTER_TYPE_PRUSALINK,
            create_backend=create_prusalink_backend,
            reauth="async_reauth_prusalink",
            reconfigure="async_reconfigure_prusalink",
            secret_keys=frozenset({"password", "api_key"}),
        ),
        PrinterType(
            key=PRINTER_TYPE_REPETIER,
            create_backend=create_repetier_backend,
            reauth="async_reauth_repetier",
            reconfigure="async_reconfigure_repetier",
            secret_keys=frozenset({"api_key"}),
        ),
        PrinterType(
            key=PRINTER_TYPE_HA_DEVICE,
            create_backend=create_ha_device_backend,
            reconfigure="async_reconfigure_ha_device",
            follow=async_follow_entities,
        ),
    )
}
"""The `user` menu, in order."""


class PrinterFlows(PrusaLinkFlowMixin, RepetierFlowMixin, HaDeviceFlowMixin):
    """Every printer type's config flow steps (the mixins of `PRINTER_TYPES`)."""


SECRET_KEYS: frozenset[str] = frozenset().union(
    *(printer_type.secret_keys for printer_type in PRINTER_TYPES.values())
)
"""Every printer type's secret data keys."""
