"""The recorder: one per printer with a camera, keeping a record of every print.

It follows the printer coordinator for the start, pauses, resumes and end of a
print; takes timelapse frames from the camera while the printer prints (every N
seconds, or per layer); notes every detection check the monitor reports
(`SIGNAL_DETECTION_CHECK`) and every warning or failure (`EVENT_DETECTION`), with
the flagged frame; and when the print ends builds the timelapse and the chart in
the executor and applies the storage caps.

Recording never gets in detection's way: a camera error skips a frame, and a full
disk or a failed write stops recording for this printer (one repair issue) while
the print and detection go on untouched. The next print tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
import logging
from pathlib import Path
import re
import shutil
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import CONF_SNAPSHOT_URL, DOMAIN, EVENT_DETECTION
from ..coordinator import PrinterCoordinator
from ..detection.frames import prepare_frame
from ..job_events import (
    CANCELLED,
    FAILED,
    FINISHED,
    PAUSED,
    RESUMED,
    STARTED,
    compared_next,
    job_events,
)
from ..links import EntityLinks
from ..pictures import async_fresh_picture
from ..printers.base import Capability, PrinterError, PrinterSnapshot, PrinterState
from .chart import ChartSpec, draw_chart, parse_time
from .const import (
    CONF_RECORDS_KEEP,
    CONF_RECORDS_MAX_MB,
    CONF_TIMELAPSE_INTERVAL,
    CONF_TIMELAPSE_MODE,
    DEFAULT_RECORDS_KEEP,
    DEFAULT_RECORDS_MAX_MB,
    DEFAULT_TIMELAPSE_INTERVAL,
    DEFAULT_TIMELAPSE_MODE,
    FRAME_LONG_SIDE,
    ISSUE_RECORDING_STOPPED,
    MAX_FLAGGED_FRAMES,
    MAX_TIMELAPSE_FRAMES,
    MAX_TIMELINE_ENTRIES,
    MIN_FREE_BYTES,
    MIN_TIMELAPSE_INTERVAL,
    OUTCOME_CANCELLED,
    OUTCOME_FAILED,
    OUTCOME_FINISHED,
    OUTCOME_INTERRUPTED,
    OUTCOME_PAUSED_BY_SENTINEL,
    RECORDS_FOLDER,
    SIGNAL_DETECTION_CHECK,
    TIMELAPSE_FPS,
    TIMELAPSE_LAYER,
    TIMELAPSE_OFF,
)
from .store import PrintRecord, RecordStore, StorageError
from .timelapse import assemble, frame_due, frame_paths, thin, write_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..detection.verdict import Frame

_LOGGER = logging.getLogger(__name__)

EVENT_RECORD: str = f"{DOMAIN}_print_recorded"
"""Fired when a print's record is complete (timelapse and chart built)."""
SAVE_EVERY = 30.0
"""Seconds between saves of a running print's record (and on every event)."""
_OUTCOMES = {
    FINISHED: OUTCOME_FINISHED,
    CANCELLED: OUTCOME_CANCELLED,
    FAILED: OUTCOME_FAILED,
}
_CHECK_KEYS = ("score", "kind", "reason", "error", "decision", "action")


URL: str = f"/api/{DOMAIN}/records/{{entry_id}}/{{record_id}}/{{name}}"
"""Where the HTTP view serves a record's files (authenticated, or a signed path)."""


def file_url(entry_id: str, record_id: str, name: str) -> str:
    """Return the URL of a record's file."""
    return URL.format(entry_id=entry_id, record_id=record_id, name=name)


def records_root(hass: HomeAssistant, entry_id: str) -> Path:
    """Return the folder of a printer's records."""
    return Path(hass.config.path(*RECORDS_FOLDER, entry_id))


def _slug(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(value))[:40].strip("-") or "job"


@dataclass(kw_only=True)
class RecorderSettings:
    """What the options say about records."""

    camera_entity_id: str
    mode: str = DEFAULT_TIMELAPSE_MODE
    interval: float = DEFAULT_TIMELAPSE_INTERVAL
    keep: int = DEFAULT_RECORDS_KEEP
    max_bytes: int = DEFAULT_RECORDS_MAX_MB * 1024 * 1024
    min_free_bytes: int = MIN_FREE_BYTES
    ffmpeg: str | None = None

    @classmethod
    def from_options(
        cls, options: dict[str, Any] | Any, camera_entity_id: str
    ) -> RecorderSettings:
        """Read the settings from a config entry's options."""
        return cls(
            camera_entity_id=camera_entity_id,
            mode=str(options.get(CONF_TIMELAPSE_MODE, DEFAULT_TIMELAPSE_MODE)),
            interval=max(
                float(options.get(CONF_TIMELAPSE_INTERVAL, DEFAULT_TIMELAPSE_INTERVAL)),
                MIN_TIMELAPSE_INTERVAL,
            ),
            keep=max(int(options.get(CONF_RECORDS_KEEP, DEFAULT_RECORDS_KEEP)), 1),
            max_bytes=max(
                int(options.get(CONF_RECORDS_MAX_MB, DEFAULT_RECORDS_MAX_MB)), 1
            )
            * 1024
            * 1024,
        )


def ffmpeg_binary(hass: HomeAssistant) -> str | None:
    """Return the ffmpeg binary HA's ffmpeg integration uses, or the default."""
    try:
        from homeassistant.components.ffmpeg import get_ffmpeg_manager

        return get_ffmpeg_manager(hass).binary
    except ImportError, ValueError, KeyError:
        return "ffmpeg"


class PrintRecorder:
    """Keeps the records of one printer's prints."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        coordinator: PrinterCoordinator,
        settings: RecorderSettings,
        *,
        links: EntityLinks,
        flagged_frame: Callable[[], Frame | None] = lambda: None,
    ) -> None:
        """Initialise; nothing runs until `async_start`.

        `flagged_frame` returns the frame of detection's latest warning or failure
        (kept with the record); `links` names the device and the chart in events.
        """
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.settings = settings
        self.links = links
        self._flagged_frame = flagged_frame
        self.store = RecordStore(records_root(hass, entry.entry_id))
        self.record: PrintRecord | None = None
        """The print being recorded now."""
        self.last_record: PrintRecord | None = None
        """The latest print with a chart (for the chart image)."""
        self.stopped: str | None = None
        """Why recording is off until the next print (disk full, write error)."""
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._last: PrinterSnapshot | None = None
        self._started = False
        self._last_frame_time: float | None = None
        self._last_layer: int | None = None
        self._interval = settings.interval
        self._capturing = False
        self._no_camera = False
        self._last_save = 0.0
        self._paused_by_sentinel = False
        self.own_camera = False
        """The camera is the printer's own (which shows thumbnails without one)."""
        self._pending: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    # --- lifecycle --------------------------------------------------------

    async def async_start(self) -> CALLBACK_TYPE:
        """Load the records and follow the printer; returns the stop function."""
        index = await self.hass.async_add_executor_job(self.store.index)
        for entry in index:
            record = await self.hass.async_add_executor_job(
                self.store.read, entry["id"]
            )
            if record is None:
                continue
            if record.ended is None and self.record is None:
                record.frames = len(
                    await self.hass.async_add_executor_job(
                        frame_paths, self.store.frames_dir(record.id)
                    )
                )
                self.record = record
                self._paused_by_sentinel = _paused_by_sentinel(record)
            elif record.chart and self.last_record is None:
                self.last_record = record
        self._unsubs = [
            self.coordinator.async_add_listener(self._handle_update),
            async_dispatcher_connect(
                self.hass,
                SIGNAL_DETECTION_CHECK.format(self.entry.entry_id),
                self._handle_check,
            ),
            self.hass.bus.async_listen(EVENT_DETECTION, self._handle_detection),
            async_track_time_interval(
                self.hass,
                self._tick,
                timedelta(seconds=MIN_TIMELAPSE_INTERVAL / 2),
                name=f"{DOMAIN} timelapse",
            ),
        ]
        self._handle_update()
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop following; the running print's record is saved to go on later."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        if (record := self.record) is not None:
            self._spawn(self._async_save(record))

    async def async_wait(self) -> None:
        """Wait for the file work started so far (tests, unload)."""
        while self._pending:
            await asyncio.gather(*self._pending)

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when the last print's chart changes."""
        self._listeners.append(update)

        def remove() -> None:
            self._listeners.remove(update)

        return remove

    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run file work in order, one job at a time.

        So a print's end (timelapse, chart) runs after its last frames and flags.
        """

        async def run() -> None:
            async with self._lock:
                await job

        task = self.hass.async_create_background_task(run(), f"{DOMAIN} records")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # --- following the printer -------------------------------------------

    @callback
    def _handle_update(self) -> None:
        if not self.coordinator.last_update_success or self.coordinator.data is None:
            return
        snapshot = self.coordinator.data
        previous, self._last = self._last, compared_next(self._last, snapshot)
        if not self._started:
            self._started = True
            self._first_poll(snapshot)
        else:
            for event in job_events(previous, snapshot):
                self._job_event(event, snapshot)
        if (
            snapshot.state is PrinterState.PRINTING
            and self.settings.mode == TIMELAPSE_LAYER
            and snapshot.layer is not None
        ):
            self._maybe_capture()

    def _first_poll(self, snapshot: PrinterSnapshot) -> None:
        """After start-up: go on with the print that ran, or close the old one."""
        record = self.record
        job_id = _job_id(snapshot)
        if record is not None and (not snapshot.has_job or record.job_id != job_id):
            self._finish(OUTCOME_INTERRUPTED)
            record = None
        if snapshot.has_job and record is None:
            self._start(snapshot)

    def _job_event(self, event: str, snapshot: PrinterSnapshot) -> None:
        if event == STARTED:
            if self.record is not None:
                self._finish(OUTCOME_INTERRUPTED)
            self._start(snapshot)
        elif event == PAUSED:
            by = "sentinel" if self._paused_by_sentinel else "user"
            self._add({"type": "pause", "by": by}, save=True)
        elif event == RESUMED:
            self._paused_by_sentinel = False
            self._add({"type": "resume"}, save=True)
        elif event in _OUTCOMES:
            outcome = _OUTCOMES[event]
            if self._paused_by_sentinel and outcome == OUTCOME_CANCELLED:
                outcome = OUTCOME_PAUSED_BY_SENTINEL
            self._finish(outcome)

    def _start(self, snapshot: PrinterSnapshot) -> None:
        now = dt_util.utcnow()
        job = snapshot.job
        job_id = _job_id(snapshot)
        self.record = PrintRecord(
            id=f"{now:%Y%m%d-%H%M%S}-{_slug(job_id)}",
            job_id=job_id,
            file_name=(job.name or job.path) if job else None,
            started=now.isoformat(),
            material=(job.material if job else None) or snapshot.material,
            frame_interval=None if self._per_layer else self.settings.interval,
        )
        self.stopped = None
        self._interval = self.settings.interval
        self._last_frame_time = None
        self._last_layer = None
        self._paused_by_sentinel = False
        self._no_camera = False
        ir.async_delete_issue(
            self.hass, DOMAIN, ISSUE_RECORDING_STOPPED.format(self.entry.entry_id)
        )
        self._spawn(self._async_save(self.record, force=True))
        if snapshot.state is PrinterState.PRINTING:
            self._maybe_capture()  # the first frame at once

    @property
    def _per_layer(self) -> bool:
        return (
            self.settings.mode == TIMELAPSE_LAYER
            and Capability.LAYER in self.coordinator.backend.capabilities
        )

    def _finish(self, outcome: str) -> None:
        record = self.record
        if record is None:
            return
        self.record = None
        now = dt_util.utcnow()
        record.ended = now.isoformat()
        record.outcome = outcome
        if (start := parse_time(record.started)) is not None:
            record.duration_s = round((now - start).total_seconds(), 1)
        self._spawn(self._async_complete(record))

    # --- the timeline -----------------------------------------------------

    @callback
    def _handle_check(self, data: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"type": "check"}
        for key in _CHECK_KEYS:
            if (value := data.get(key)) is not None:
                entry[key] = value
        if isinstance(entry.get("reason"), str):
            entry["reason"] = entry["reason"][:300]
        if isinstance(entry.get("error"), str):
            entry["error"] = entry["error"][:200]
        for key in ("warning_level", "failure_level"):
            if isinstance(level := data.get(key), int | float) and self.record:
                self.record.timeline.append({"type": "levels", key: float(level)})
        if data.get("type") in ("false_alarm", "pause", "resume"):
            entry = {"type": data["type"]}
        elif len(entry) == 1:
            return  # nothing about a check (only the levels)
        self._add(entry, save=data.get("decision") not in (None, "ok"))

    @callback
    def _handle_detection(self, event: Event) -> None:
        data = event.data
        if data.get("entry_id") != self.entry.entry_id or self.record is None:
            return
        level = data.get("level")
        if level not in ("warning", "failure"):
            return
        verdict = data.get("verdict") or {}
        action = data.get("action")
        if action == "paused":
            self._paused_by_sentinel = True
            # the monitor refreshes the printer before it reports the failure, so
            # the pause may already be noted (as the user's): it was Sentinel's
            for old in reversed(self.record.timeline):
                if old.get("type") in ("resume", "failure"):
                    break
                if old.get("type") == "pause":
                    old["by"] = "sentinel"
                    break
        entry: dict[str, Any] = {
            "type": level,
            "action": action,
            "score": verdict.get("failure_score"),
            "kind": verdict.get("kind"),
            "reason": str(verdict.get("reason") or "")[:300],
        }
        frame = self._flagged_frame()
        if (
            frame is not None
            and self.stopped is None
            and len(self.record.flagged) < MAX_FLAGGED_FRAMES
        ):
            name = f"flagged_{len(self.record.flagged) + 1:02d}.jpg"
            self.record.flagged.append(name)
            entry["frame"] = name
            self._spawn(self._async_write_flagged(self.record, name, frame.jpeg))
        self._add(entry, save=True)
        if level == "failure" and self.stopped is None:
            self._spawn(self._async_chart(self.record))

    def _add(self, entry: dict[str, Any], *, save: bool = False) -> None:
        record = self.record
        if record is None:
            return
        entry = {"t": dt_util.utcnow().isoformat(), **entry}
        record.timeline.append(entry)
        if len(record.timeline) > MAX_TIMELINE_ENTRIES:
            # drop the oldest plain check, never a decision or an action
            for i, old in enumerate(record.timeline):
                if old.get("type") == "check" and old.get("decision") in (None, "ok"):
                    del record.timeline[i]
                    break
            else:
                del record.timeline[0]
        now = self.hass.loop.time()
        if save or now - self._last_save >= SAVE_EVERY:
            self._last_save = now
            self._spawn(self._async_save(record))

    # --- timelapse frames -------------------------------------------------

    @callback
    def _tick(self, _now: datetime) -> None:
        snapshot = self.coordinator.data
        if (
            self.record is not None
            and snapshot is not None
            and self.coordinator.last_update_success
            and snapshot.state is PrinterState.PRINTING
        ):
            self._maybe_capture()

    def _maybe_capture(self) -> None:
        record = self.record
        snapshot = self.coordinator.data
        if (
            record is None
            or snapshot is None
            or self.stopped is not None
            or self._capturing
            or self._no_camera
            or self.settings.mode == TIMELAPSE_OFF
            or not self.settings.camera_entity_id
        ):
            return
        layer = snapshot.layer if self._per_layer else None
        now = self.hass.loop.time()
        if not frame_due(
            mode=self.settings.mode,
            now=now,
            last_time=self._last_frame_time,
            interval=self._interval,
            layer=layer,
            last_layer=self._last_layer,
        ):
            return
        self._capturing = True
        self._last_frame_time = now
        self._last_layer = layer
        self._spawn(self._async_capture(record))

    async def _async_capture(self, record: PrintRecord) -> None:
        try:
            content = await self._async_camera_image()
            if content is None:
                return
            try:
                frames = await self.hass.async_add_executor_job(
                    self._write_frame, record, content
                )
            except ValueError as err:
                _LOGGER.debug("Unusable timelapse frame: %s", err)
                return
            except (OSError, StorageError) as err:
                self._stop_recording(str(err))
                return
            if record is self.record:
                record.frames = frames
                if frames >= MAX_TIMELAPSE_FRAMES:
                    record.frames = await self.hass.async_add_executor_job(
                        thin, self.store.frames_dir(record.id)
                    )
                    self._interval *= 2
                    if record.frame_interval is not None:
                        record.frame_interval = self._interval
        finally:
            self._capturing = False

    async def _async_camera_image(self) -> bytes | None:
        """Return a camera image for the timelapse, or None for none this time.

        The printer's own camera without a snapshot URL shows the job's thumbnail
        when the printer has no camera: ask the printer itself, and on None
        ask no more during this print (no thumbnail is fetched for nothing).
        """
        try:
            if self.own_camera and not self.entry.options.get(CONF_SNAPSHOT_URL):
                content = await self.coordinator.backend.async_get_camera_image()
                if content is None:
                    self._no_camera = True
                return content
            content = await async_fresh_picture(
                self.hass, self.settings.camera_entity_id, within=10
            )
        except (HomeAssistantError, PrinterError) as err:
            _LOGGER.debug("No timelapse frame for %s: %s", self.entry.title, err)
            return None
        except Exception:  # a camera's fault never stops a record
            _LOGGER.debug("No timelapse frame for %s", self.entry.title, exc_info=True)
            return None
        return content

    def _write_frame(self, record: PrintRecord, content: bytes) -> int:
        """Executor: check the space, prepare and write one frame."""
        if self.store.free_bytes() < self.settings.min_free_bytes:
            raise StorageError("the disk is almost full")
        frame = prepare_frame(content, dt_util.utcnow(), FRAME_LONG_SIDE, 80)
        number = record.frames + 1
        write_frame(self.store.frames_dir(record.id), number, frame.jpeg)
        return number

    # --- file work --------------------------------------------------------

    def _stop_recording(self, error: str, record: PrintRecord | None = None) -> None:
        """Stop recording until the next print; detection is not touched."""
        if (record := record or self.record) is not None:
            record.recording_stopped = record.recording_stopped or error
        if self.stopped is not None:
            return
        self.stopped = error
        _LOGGER.warning(
            "Recording the print of %s stopped: %s; the print and failure "
            "detection go on",
            self.entry.title,
            error,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ISSUE_RECORDING_STOPPED.format(self.entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="recording_stopped",
            translation_placeholders={"printer": self.entry.title, "error": error},
        )

    async def _async_save(self, record: PrintRecord, *, force: bool = False) -> None:
        if self.stopped is not None and not force:
            return
        try:
            await self.hass.async_add_executor_job(self._save, record)
        except (OSError, StorageError) as err:
            self._stop_recording(str(err))

    def _save(self, record: PrintRecord) -> None:
        if self.store.free_bytes() < self.settings.min_free_bytes:
            raise StorageError("the disk is almost full")
        self.store.save(record)

    async def _async_write_flagged(
        self, record: PrintRecord, name: str, jpeg: bytes
    ) -> None:
        def write() -> None:
            if self.store.free_bytes() < self.settings.min_free_bytes:
                raise StorageError("the disk is almost full")
            folder = self.store.folder(record.id)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(jpeg)

        try:
            await self.hass.async_add_executor_job(write)
        except (OSError, StorageError) as err:
            self._stop_recording(str(err))

    async def _async_chart(self, record: PrintRecord) -> None:
        try:
            await self.hass.async_add_executor_job(self._draw_chart, record)
        except (OSError, StorageError) as err:
            self._stop_recording(str(err))
            return
        self.last_record = record
        self._notify()

    def _draw_chart(self, record: PrintRecord) -> None:
        """Executor: draw the record's chart into chart.png."""
        folder = self.store.folder(record.id)
        start = parse_time(record.started) or dt_util.utcnow()
        end = parse_time(record.ended) or dt_util.utcnow()
        levels = {"warning_level": 50.0, "failure_level": 80.0}
        flagged = []
        for entry in record.timeline:
            if entry.get("type") == "levels":
                levels.update({k: v for k, v in entry.items() if k in levels})
            if (name := entry.get("frame")) and (when := parse_time(entry.get("t"))):
                flagged.append((when, folder / name))
        title = " · ".join(
            part
            for part in (
                self.entry.title,
                dt_util.as_local(start).strftime("%Y-%m-%d %H:%M"),
                record.file_name or "",
                (record.outcome or "printing").replace("_", " "),
            )
            if part
        )
        png = draw_chart(
            ChartSpec(
                title=title,
                start=start,
                end=end,
                timeline=record.timeline,
                flagged=flagged,
                **levels,
            )
        )
        if self.store.free_bytes() < self.settings.min_free_bytes:
            raise StorageError("the disk is almost full")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "chart.png.tmp"
        tmp.write_bytes(png)
        tmp.replace(folder / "chart.png")
        record.chart = "chart.png"

    async def _async_complete(self, record: PrintRecord) -> None:
        """The print ended: timelapse, chart, save, caps; then tell automations."""
        if self.stopped is None:
            try:
                await self.hass.async_add_executor_job(self._complete_files, record)
            except (OSError, StorageError, ValueError) as err:
                self._stop_recording(str(err), record)
        if self.stopped is not None:  # no timelapse: free the frames' space
            await self.hass.async_add_executor_job(
                partial(
                    shutil.rmtree, self.store.frames_dir(record.id), ignore_errors=True
                )
            )
        await self._async_save(record, force=self.stopped is not None)
        try:
            deleted = await self.hass.async_add_executor_job(
                self.store.enforce_caps,
                self.settings.keep,
                self.settings.max_bytes,
                self.record.id if self.record else None,
            )
        except OSError as err:  # pragma: no cover - rmtree ignores errors
            _LOGGER.warning("Could not apply the record caps: %s", err)
            deleted = []
        if self.last_record is not None and self.last_record.id in deleted:
            self.last_record = None
        if record.chart and record.id not in deleted:
            self.last_record = record
        self._notify()
        base = f"media-source://{DOMAIN}/{self.entry.entry_id}/{record.id}"
        self.hass.bus.async_fire(
            EVENT_RECORD,
            {
                "entry_id": self.entry.entry_id,
                "device_id": self.links.device_id,
                "record_id": record.id,
                "file_name": record.file_name,
                "outcome": record.outcome,
                "duration": record.duration_s,
                "timelapse": f"{base}/{record.timelapse}" if record.timelapse else None,
                "timelapse_format": record.timelapse_format,
                "chart": f"{base}/{record.chart}" if record.chart else None,
                "timelapse_url": (
                    file_url(self.entry.entry_id, record.id, record.timelapse)
                    if record.timelapse
                    else None
                ),
                "chart_url": (
                    file_url(self.entry.entry_id, record.id, record.chart)
                    if record.chart
                    else None
                ),
                "chart_entity_id": self.links.chart_entity_id,
            },
        )

    def _complete_files(self, record: PrintRecord) -> None:
        """Executor: build the timelapse and the chart of an ended print."""
        folder = self.store.folder(record.id)
        frames_dir = self.store.frames_dir(record.id)
        self._draw_chart(record)  # first: small, and the answer to "why?"
        if self.store.free_bytes() < self.settings.min_free_bytes:
            raise StorageError("the disk is almost full")
        if result := assemble(folder, frames_dir, self.settings.ffmpeg, TIMELAPSE_FPS):
            record.timelapse, record.timelapse_format = result


def _job_id(snapshot: PrinterSnapshot) -> str | None:
    job = snapshot.job
    if job is None:
        return None
    return str(job.id if job.id is not None else job.path or job.name)


def _paused_by_sentinel(record: PrintRecord) -> bool:
    for entry in reversed(record.timeline):
        if entry.get("type") == "resume":
            return False
        if entry.get("type") == "failure" and entry.get("action") == "paused":
            return True
    return False
