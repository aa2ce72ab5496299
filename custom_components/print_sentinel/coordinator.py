"""The data coordinator: one per printer, polling its backend adaptively."""

from __future__ import annotations

from datetime import timedelta

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

FAST_STATES = frozenset(
    {
        PrinterState.PRINTING,
        PrinterState.PAUSED,
        PrinterState.BUSY,
        PrinterState.ATTENTION,
    }
)
"""States in which a user waits for changes: poll at the printing interval."""


class PrinterCoordinator(DataUpdateCoordinator[PrinterSnapshot]):
    """Polls a printer: fast while a job runs, slow when idle.

    DataUpdateCoordinator already logs an outage once and its recovery once; the
    entities turn unavailable while `last_update_success` is False.
    """

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
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
            self._schedule_next(self.data)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="printer_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err
        except PrinterError as err:
            self._schedule_next(self.data)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="unexpected_response",
                translation_placeholders={"error": str(err)},
            ) from err
        self.previous = self.data
        self._schedule_next(snapshot)
        return snapshot

    def _schedule_next(self, snapshot: PrinterSnapshot | None) -> None:
        """Poll fast while a job runs, slow when idle, as the backend advises.

        Also after a failed poll: a backend that stopped being pushed to (its
        socket dropped) is polled at the normal pace again, not at the long
        interval it had while the pushes came.
        """
        self.update_interval = (
            self.printing_interval
            if snapshot is not None and snapshot.state in FAST_STATES
            else self.idle_interval
        )
        # a backend that knows its printer better says how soon to poll again
        if (
            snapshot is not None
            and (hint := getattr(self.backend, "poll_interval", None)) is not None
            and (
                seconds := hint(
                    snapshot,
                    self.printing_interval.total_seconds(),
                    self.idle_interval.total_seconds(),
                )
            )
            is not None
        ):
            self.update_interval = timedelta(seconds=seconds)
