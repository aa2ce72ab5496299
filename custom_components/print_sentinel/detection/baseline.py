"""What is kept about a printer across restarts, with HA's `Store`.

The learned baseline, the user's last false alarms, the job Print Sentinel paused
(so that resuming it after a restart is still a resume of our own pause), the
job the user switched detection off for (it stays off for that print), and what
the user's word on the running print taught the policy (its raised bar).
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN
from .policy import PrinterBaseline

STORAGE_VERSION = 1
SAVE_DELAY = 10.0
"""Seconds a save waits (several changes in a row are written once)."""
USAGE_SAVE_DELAY = 60.0
"""The same for a change of usage alone (one each check): at most a write a
minute; Home Assistant writes what waits when it stops."""
MAX_FALSE_ALARMS = 10

DATA_STORES = f"{DOMAIN}_baseline_stores"
"""hass.data key: one `Store` per config entry, kept across reloads so a reload
reads what a delayed save has not written yet."""


def storage_key(entry_id: str) -> str:
    """The file name (under .storage) of one printer's baseline."""
    return f"{DOMAIN}.{entry_id}.baseline"


class BaselineStore:
    """One printer's baseline and the user's last false alarms, on disk."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Initialise; nothing is read until `async_load`."""
        stores: dict[str, Store[dict[str, Any]]] = hass.data.setdefault(DATA_STORES, {})
        if entry_id not in stores:
            stores[entry_id] = Store(hass, STORAGE_VERSION, storage_key(entry_id))
        self._store = stores[entry_id]
        self.baseline: PrinterBaseline | None = None
        self.false_alarms: list[dict[str, Any]] = []
        self.paused_job: str | None = None
        """The job Print Sentinel paused, until it is resumed or another starts."""
        self.paused_failure: dict[str, Any] | None = None
        """The failure that paused `paused_job` (time, verdict, the flagged frame),
        while it is not marked false: after a restart it is still the failure on
        show."""
        self.unwatched_job: str | None = None
        """The job the user switched detection off for, until another starts."""
        self.usage: dict[str, Any] | None = None
        """Detector usage today and on the running print (`Usage.as_stored`)."""
        self.overrulings: dict[str, Any] | None = None
        """What the user's false alarms and resumes of our pause taught the policy
        on the job `overrulings["job"]`: a restart mid-print keeps the raised bar."""

    async def async_load(self) -> None:
        """Read what was stored; anything unusable gives the empty baseline."""
        data = await self._store.async_load()
        if not isinstance(data, dict):
            return
        if (baseline := data.get("baseline")) is not None:
            self.baseline = PrinterBaseline.from_dict(baseline)
        if isinstance(paused := data.get("paused_job"), str):
            self.paused_job = paused[:100]
        if isinstance(failure := data.get("paused_failure"), dict) and self.paused_job:
            self.paused_failure = failure
        if isinstance(unwatched := data.get("unwatched_job"), str):
            self.unwatched_job = unwatched[:100]
        if isinstance(usage := data.get("usage"), dict):
            self.usage = usage
        overrulings = data.get("overrulings")
        if isinstance(overrulings, dict) and isinstance(overrulings.get("job"), str):
            self.overrulings = overrulings
        alarms = data.get("false_alarms")
        if isinstance(alarms, list):
            self.false_alarms = [a for a in alarms if isinstance(a, dict)][
                -MAX_FALSE_ALARMS:
            ]

    def set_baseline(self, baseline: PrinterBaseline) -> None:
        """Keep a new baseline (saved a little later)."""
        self.baseline = baseline
        self._save()

    def add_false_alarm(self, record: dict[str, Any]) -> None:
        """Keep a false alarm the user marked (the newest few)."""
        self.false_alarms = [*self.false_alarms, record][-MAX_FALSE_ALARMS:]
        self._save()

    def set_paused_job(
        self, job_id: str | None, failure: dict[str, Any] | None = None
    ) -> None:
        """Remember (or forget, None) the job Print Sentinel paused, and for what."""
        if job_id is None:
            failure = None
        if job_id != self.paused_job or failure != self.paused_failure:
            self.paused_job, self.paused_failure = job_id, failure
            self._save()

    def forget_paused_failure(self) -> None:
        """The user marked the failure false or reset detection: nothing to show."""
        if self.paused_failure is not None:
            self.paused_failure = None
            self._save()

    def set_unwatched_job(self, job_id: str | None) -> None:
        """Remember (or forget, None) the job detection is switched off for."""
        if job_id != self.unwatched_job:
            self.unwatched_job = job_id
            self._save()

    def overrulings_of(self, job_id: str) -> dict[str, Any] | None:
        """The overrulings kept for `job_id`, if it is the job they were on."""
        kept = self.overrulings
        return kept if kept is not None and kept.get("job") == job_id[:100] else None

    def set_overrulings(self, job_id: str | None, data: dict[str, Any]) -> None:
        """Keep (or forget, job None) what the user's word taught on a job."""
        kept = None if job_id is None else {**data, "job": job_id[:100]}
        if kept != self.overrulings:
            self.overrulings = kept
            self._save()

    def set_usage(self, usage: dict[str, Any]) -> None:
        """Keep the usage counted so far (written within a minute)."""
        self.usage = usage
        self._store.async_delay_save(self._data, USAGE_SAVE_DELAY)

    def _save(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "false_alarms": self.false_alarms,
            "paused_job": self.paused_job,
            "paused_failure": self.paused_failure,
            "unwatched_job": self.unwatched_job,
            "overrulings": self.overrulings,
            "usage": self.usage,
        }

    @staticmethod
    async def async_remove(hass: HomeAssistant, entry_id: str) -> None:
        """Delete a removed printer's file."""
        store = hass.data.get(DATA_STORES, {}).pop(entry_id, None)
        if store is None:
            store = Store[dict[str, Any]](hass, STORAGE_VERSION, storage_key(entry_id))
        await store.async_remove()
