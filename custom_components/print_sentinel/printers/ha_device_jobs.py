"""When each watched printer's running print started, kept across restarts.

A printer read through another integration's entities has no job id of its own:
`HaDeviceBackend` names a print by when it first saw it printing. Kept here (one
small file for all such printers), a print found running or paused after a
restart or reload is still the same print, so a pause Print Sentinel made is
still its own.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

_DATA: Final = "print_sentinel_ha_device_prints"
"""hass.data key: the one `RunningPrints`."""
STORAGE_KEY: Final = "print_sentinel.ha_device_prints"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0
MAX_ID_LENGTH: Final = 64


class RunningPrints:
    """Device id -> when its running print started (an ISO time), on disk."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise; `async_load` reads the file once."""
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._starts: dict[str, str] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    async def async_load(self) -> None:
        """Read the file (the first call only); anything unusable is no print."""
        async with self._lock:
            if self._loaded:
                return
            data = await self._store.async_load()
            if isinstance(data, dict):
                self._starts = {
                    device: start[:MAX_ID_LENGTH]
                    for device, start in data.items()
                    if isinstance(device, str) and isinstance(start, str)
                }
            self._loaded = True

    def __contains__(self, device_id: str) -> bool:
        """Return True when the device has a print running (as last seen)."""
        return device_id in self._starts

    def get(self, device_id: str) -> str | None:
        """Return when the device's running print started, if one runs."""
        return self._starts.get(device_id)

    def set(self, device_id: str, start: str | None) -> None:
        """Keep (or forget, None) when the device's running print started."""
        if self._starts.get(device_id) == start:
            return
        if start is None:
            del self._starts[device_id]
        else:
            self._starts[device_id] = start
        self._store.async_delay_save(lambda: dict(self._starts), SAVE_DELAY)


def running_prints(hass: HomeAssistant) -> RunningPrints:
    """Return the one `RunningPrints` of this Home Assistant."""
    prints: RunningPrints | None = hass.data.get(_DATA)
    if prints is None:
        prints = hass.data[_DATA] = RunningPrints(hass)
    return prints
