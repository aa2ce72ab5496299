"""When each watched printer's running print started, kept across restarts.

A printer read through another integration's entities has no job id of its own:
`HaDeviceBackend` names a print by when it first saw it printing. Kept here (one
small file for all such printers), with the file's name and the progress last seen,
a print found running or paused after a restart or reload is still the same print,
so a pause Print Sentinel made is still its own; one that started while Home
Assistant was down (another file, less progress) is a new print.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

_LOGGER = logging.getLogger(__name__)

_DATA: Final = "print_sentinel_ha_device_prints"
"""hass.data key: the one `RunningPrints`."""
STORAGE_KEY: Final = "print_sentinel.ha_device_prints"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 30.0
"""Seconds a save waits (Home Assistant writes what waits when it stops)."""
MAX_TEXT_LENGTH: Final = 255
PROGRESS_SLACK: Final = 1.0
"""Percent progress may read lower and still be the same print (rounding)."""


@dataclass(frozen=True)
class RunningPrint:
    """A watched printer's running print, as last seen."""

    start: str
    """When it was first seen printing (ISO time): its id."""
    name: str | None = None
    progress: float | None = None

    def same_print(self, name: str | None, progress: float | None) -> bool:
        """Return True unless `name` and `progress` say another print runs now."""
        if name is not None and self.name is not None and name != self.name:
            return False
        return (
            progress is None
            or self.progress is None
            or progress >= self.progress - PROGRESS_SLACK
        )

    @classmethod
    def from_dict(cls, data: object) -> RunningPrint | None:
        """Read one stored print; None for anything unusable."""
        if not isinstance(data, dict) or not isinstance(
            start := data.get("start"), str
        ):
            return None
        name = data.get("name")
        progress = data.get("progress")
        return cls(
            start=start[:MAX_TEXT_LENGTH],
            name=name[:MAX_TEXT_LENGTH] if isinstance(name, str) else None,
            progress=(
                float(progress)
                if isinstance(progress, int | float) and not isinstance(progress, bool)
                else None
            ),
        )


class RunningPrints:
    """Device id -> its running print, on disk."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise; `async_load` reads the file once."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._prints: dict[str, RunningPrint] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    async def async_load(self) -> None:
        """Read the file (the first call only); anything unusable is no print."""
        async with self._lock:
            if self._loaded:
                return
            self._loaded = True
            try:
                data = await self._store.async_load()
            except Exception as err:  # noqa: BLE001 - a bad file must not stop polling
                _LOGGER.warning(
                    "Could not read %s (%s); prints running now count as new",
                    STORAGE_KEY,
                    err,
                )
                return
            if isinstance(data, dict):
                for device, stored in data.items():
                    if isinstance(device, str) and (
                        running := RunningPrint.from_dict(stored)
                    ):
                        self._prints[device] = running

    def get(self, device_id: str) -> RunningPrint | None:
        """Return the device's running print, if one runs (as last seen)."""
        return self._prints.get(device_id)

    def __contains__(self, device_id: str) -> bool:
        """Return True when the device has a print running (as last seen)."""
        return device_id in self._prints

    def set(self, device_id: str, running: RunningPrint | None) -> None:
        """Keep (or forget, None) the device's running print."""
        if self._prints.get(device_id) == running:
            return
        if running is None:
            del self._prints[device_id]
        else:
            self._prints[device_id] = running
        self._store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        return {device: asdict(running) for device, running in self._prints.items()}


def running_prints(hass: HomeAssistant) -> RunningPrints:
    """Return the one `RunningPrints` of this Home Assistant."""
    prints: RunningPrints | None = hass.data.get(_DATA)
    if prints is None:
        prints = hass.data[_DATA] = RunningPrints(hass)
    return prints
