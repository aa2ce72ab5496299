"""Helpers: turn printer errors from commands into translated HA errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .entity import PrintSentinelEntity
from .printers.base import (
    PrinterAuthError,
    PrinterCommandRefused,
    PrinterCommandUnsupported,
    PrinterConnectionError,
    PrinterError,
)


def printer_error_to_ha(
    err: PrinterError, entry_id: str | None = None
) -> HomeAssistantError:
    """Map a backend error onto a translated HomeAssistantError."""
    key = "command_failed"
    if isinstance(err, PrinterCommandRefused):
        key = "command_refused"
    elif isinstance(err, PrinterCommandUnsupported):
        key = "command_unsupported"
    elif isinstance(err, PrinterAuthError):
        key = "invalid_auth"
    elif isinstance(err, PrinterConnectionError):
        key = "printer_unreachable"
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


def printer_command[EntityT: PrintSentinelEntity, **P](
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Run a printer command; refresh afterwards; translate errors."""

    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
        except PrinterAuthError as err:
            self.hass.config_entries.async_schedule_reload(
                self.coordinator.config_entry.entry_id
            )
            raise printer_error_to_ha(err) from err
        except PrinterError as err:
            raise printer_error_to_ha(err) from err
        await self.coordinator.async_request_refresh()

    return handler
