"""The data coordinator: one per printer, polling its backend adaptively."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    CONF_IDLE_INTERVAL,
    CONF_PRINTING_INTERVAL,
    DEFAULT_IDLE_INTERVAL,
    DEFAULT_PRINTING_INTERVAL,
    DOMAIN,
    LOGGER,
)
from .printers.base import (
    PrinterAuthError,
    PrinterBackend,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentity,
    PrinterSnapshot,
    PrinterState,
)

if TYPE_CHECKING:
    from .detection.monitor import DetectionMonitor
    from .prusa_connect import PrusaConnectUploader

FAST_STATES = frozenset(
    {
        PrinterState.PRINTING,
        PrinterState.PAUSED,
        PrinterState.BUSY,
        PrinterState.ATTENTION,
    }
)
"""States in which a user waits for changes: poll at the printing interval."""


@dataclass(kw_only=True)
class PrintSentinelRuntimeData:
    """Everything one config entry (one printer) holds at runtime."""

    backend: PrinterBackend
    identity: PrinterIdentity
    coordinator: PrinterCoordinator
    monitor: DetectionMonitor | None = None
    connect_uploader: PrusaConnectUploader | None = None
    extra: dict[str, Any] = field(default_factory=dict)


type PrintSentinelConfigEntry = ConfigEntry[PrintSentinelRuntimeData]


class PrinterCoordinator(DataUpdateCoordinator[PrinterSnapshot]):
    """Polls a printer: fast while a job runs, slow when idle.

    DataUpdateCoordinator already logs an outage once and its recovery once; the
    entities turn unavailable while `last_update_success` is False.
    """

    config_entry: PrintSentinelConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: PrintSentinelConfigEntry,
        backend: PrinterBackend,
        identity: PrinterIdentity,
    ) -> None:
        """Initialise for one printer."""
        self.backend = backend
        self.identity = identity
        self.idle_interval = timedelta(
            seconds=entry.options.get(CONF_IDLE_INTERVAL, DEFAULT_IDLE_INTERVAL)
        )
        self.printing_interval = timedelta(
            seconds=entry.options.get(CONF_PRINTING_INTERVAL, DEFAULT_PRINTING_INTERVAL)
        )
        self.previous: PrinterSnapshot | None = None
        """The snapshot before the current one, for transitions (job events)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {identity.name}",
            update_interval=self.idle_interval,
        )

    async def _async_update_data(self) -> PrinterSnapshot:
        """Poll the printer once."""
        try:
            snapshot = await self.backend.async_poll()
        except PrinterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except PrinterConnectionError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="printer_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err
        except PrinterError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="unexpected_response",
                translation_placeholders={"error": str(err)},
            ) from err
        self.previous = self.data
        self.update_interval = (
            self.printing_interval
            if snapshot.state in FAST_STATES
            else self.idle_interval
        )
        # a backend that knows its printer better says how soon to poll again
        if (hint := getattr(self.backend, "poll_interval", None)) is not None and (
            seconds := hint(
                snapshot,
                self.printing_interval.total_seconds(),
                self.idle_interval.total_seconds(),
            )
        ) is not None:
            self.update_interval = timedelta(seconds=seconds)
        return snapshot
