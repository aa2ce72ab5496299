"""Print Sentinel: watch 3D printers and stop failed prints."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.helpers.typing import ConfigType

from .const import CONF_PRINTER_TYPE, DOMAIN, PRINTER_TYPE_REPETIER
from .coordinator import (
    PrinterCoordinator,
    PrintSentinelConfigEntry,
    PrintSentinelRuntimeData,
)
from .printers.base import (
    PrinterAuthError,
    PrinterBackend,
    PrinterConnectionError,
    PrinterError,
)
from .printers.prusalink import PrusaLinkBackend

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once."""
    return True


def create_backend(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> PrinterBackend:
    """Build the backend the entry's printer type needs."""
    if entry.data.get(CONF_PRINTER_TYPE) == PRINTER_TYPE_REPETIER:
        from .repetier_flow import create_repetier_backend

        return create_repetier_backend(hass, entry.data)
    return PrusaLinkBackend(
        get_async_client(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_USERNAME],
        entry.data[CONF_PASSWORD],
    )


async def async_setup_entry(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> bool:
    """Connect to the printer and set up its entities."""
    backend = create_backend(hass, entry)
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

    coordinator = PrinterCoordinator(hass, entry, backend, identity)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = PrintSentinelRuntimeData(
        backend=backend, identity=identity, coordinator=coordinator
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: PrintSentinelConfigEntry
) -> bool:
    """Unload the printer's entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
