"""The monitor: ties a printer, a camera, a detector and the policy together.

While the printer prints, it takes a frame from the camera every check interval
(sooner while a failure is suspected), asks the detector, feeds the verdict to the
decision policy, and acts once when the policy decides: a warning notifies, a
failure notifies, pauses or cancels — never on an error or an unclear answer,
because errors never reach the policy as verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
import logging
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.camera import async_get_image
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import (
    ACTION_CANCEL,
    ACTION_NONE,
    ACTION_NOTIFY,
    ACTION_PAUSE,
    DEFAULT_LONG_SIDE,
    DETECTOR_LONG_SIDE,
    DOMAIN,
    EVENT_DETECTION,
)
from ..coordinator import PrinterCoordinator, PrintSentinelConfigEntry
from ..printers.base import PrinterError, PrinterSnapshot, PrinterState
from ..records import async_record_check
from .frames import FrameBuffer, prepare_frame
from .policy import Decision, NoVerdict, Policy, PolicyState, policy_state_as_dict
from .verdict import (
    Detector,
    DetectorAuthError,
    DetectorError,
    DetectorFrameRejected,
    DetectorPaced,
    Frame,
    Verdict,
)

_LOGGER = logging.getLogger(__name__)

MIN_CHECK_INTERVAL = 10.0
SUSPECT_SCORE = 40.0
"""A verdict at or above this score makes the next check come sooner."""


@dataclass(kw_only=True)
class DetectionSettings:
    """What the options say about detection."""

    camera_entity_id: str
    check_interval: float
    frame_count: int
    failure_action: str
    warning_action: str


@dataclass
class UsageCounter:
    """Detector calls, tokens and cost, for one print and for today."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def add(self, verdict: Verdict) -> None:
        """Count one verdict's usage."""
        usage = verdict.usage
        self.calls += usage.calls
        self.tokens += usage.input_tokens + usage.output_tokens
        self.cost_usd += usage.cost_usd


@dataclass(kw_only=True)
class DetectionEvent:
    """A warning or failure decision and what was done about it."""

    level: str
    verdict: Verdict
    action: str
    at: datetime


@dataclass(kw_only=True)
class MonitorState:
    """What the detection entities show."""

    enabled: bool = True
    """Turned off by the user for the current print (the switch)."""
    decision: Decision = Decision.OK
    last_verdict: Verdict | None = None
    last_check: datetime | None = None
    last_error: str | None = None
    last_frame: Frame | None = None
    flagged_frame: Frame | None = None
    last_event: DetectionEvent | None = None
    usage_print: UsageCounter = field(default_factory=UsageCounter)
    usage_today: UsageCounter = field(default_factory=UsageCounter)
    usage_day: date | None = None


class DetectionMonitor:
    """Watches one printer's prints through one detector."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: PrintSentinelConfigEntry,
        coordinator: PrinterCoordinator,
        detector: Detector,
        policy: Policy,
        settings: DetectionSettings,
    ) -> None:
        """Initialise; nothing runs until `async_start`."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.detector = detector
        self.policy = policy
        self.settings = settings
        self.state = MonitorState()
        self.policy_state: PolicyState = policy.initial_state()
        self._buffer = FrameBuffer(max(settings.frame_count, 1))
        self._listeners: list[CALLBACK_TYPE] = []
        self._event_listeners: list[Callable[[DetectionEvent], None]] = []
        self._unsub_coordinator: CALLBACK_TYPE | None = None
        self._unsub_midnight: CALLBACK_TYPE | None = None
        self._unsub_check: CALLBACK_TYPE | None = None
        self._job_id: object = None
        self._last_state: PrinterState | None = None
        self._acted = False
        self._warned = False
        self._stopped_by_auth = False
        self._failing = False
        self._checking = False
        self._generation = 0
        """Bumped whenever what a running check saw stops being current: a new
        print, a resume, a reset, the switch. A verdict from an older generation
        is dropped, never acted on."""
        self._long_side = DETECTOR_LONG_SIDE.get(detector.name, DEFAULT_LONG_SIDE)

    # --- lifecycle --------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the coordinator; returns the function that stops everything."""
        self._unsub_coordinator = self.coordinator.async_add_listener(
            self._handle_printer_update
        )
        self._unsub_midnight = async_track_time_change(
            self.hass, self._new_day, hour=0, minute=0, second=0
        )
        self._handle_printer_update()
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop checking."""
        if self._unsub_coordinator:
            self._unsub_coordinator()
            self._unsub_coordinator = None
        if self._unsub_midnight:
            self._unsub_midnight()
            self._unsub_midnight = None
        self._cancel_check()

    @callback
    def _new_day(self, _now: datetime) -> None:
        """Start today's usage at zero, even on a day without checks."""
        self.state.usage_today = UsageCounter()
        self.state.usage_day = dt_util.now().date()
        self._notify()

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` whenever what the entities show changes."""
        self._listeners.append(update)

        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def async_add_event_listener(
        self, listener: Callable[[DetectionEvent], None]
    ) -> CALLBACK_TYPE:
        """Call `listener` on every warning or failure decision."""
        self._event_listeners.append(listener)

        def remove() -> None:
            self._event_listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    # --- following the printer -------------------------------------------

    @property
    def _now(self) -> float:
        return self.hass.loop.time()

    @callback
    def _handle_printer_update(self) -> None:
        if not self.coordinator.last_update_success or self.coordinator.data is None:
            self._cancel_check()
            return
        snapshot: PrinterSnapshot = self.coordinator.data
        job_id = snapshot.job.id if snapshot.job else None
        previous = self._last_state
        self._last_state = snapshot.state
        if snapshot.has_job and job_id != self._job_id and job_id is not None:
            self._job_id = job_id
            self._start_print(str(job_id))
        elif (
            previous is PrinterState.PAUSED and snapshot.state is PrinterState.PRINTING
        ):
            self.policy_state = self.policy.on_resume(self.policy_state, self._now)
            self._generation += 1
            self._acted = False
            self._warned = False
            self.state.decision = self.policy_state.decision
            self._notify()
        if snapshot.state is PrinterState.PRINTING and self._can_check:
            if self._unsub_check is None and not self._checking:
                self._schedule_check(self.settings.check_interval)
        else:
            self._cancel_check()

    @property
    def _can_check(self) -> bool:
        return self.state.enabled and not self._stopped_by_auth

    @callback
    def _start_print(self, print_id: str) -> None:
        self.policy_state = self.policy.on_new_print(self._now, self.policy_state)
        self._generation += 1
        self._buffer.clear()
        self._acted = False
        self._warned = False
        self.state.enabled = True
        self.state.decision = Decision.OK
        self.state.last_verdict = None
        self.state.usage_print = UsageCounter()
        self.hass.async_create_task(
            self.detector.async_start_print(print_id), eager_start=True
        )
        self._notify()

    @callback
    def _schedule_check(self, delay: float) -> None:
        self._cancel_check()
        self._unsub_check = async_call_later(
            self.hass, max(delay, MIN_CHECK_INTERVAL), self._check_due
        )

    @callback
    def _cancel_check(self) -> None:
        if self._unsub_check is not None:
            self._unsub_check()
            self._unsub_check = None

    @callback
    def _check_due(self, _now: datetime) -> None:
        self._unsub_check = None
        self.entry.async_create_background_task(
            self.hass, self._async_scheduled_check(), f"{DOMAIN} detection check"
        )

    async def _async_scheduled_check(self) -> None:
        delay = self.settings.check_interval
        self._checking = True
        try:
            delay = await self._async_check_and_decide()
        finally:
            self._checking = False
        snapshot = self.coordinator.data
        if (
            snapshot is not None
            and snapshot.state is PrinterState.PRINTING
            and self._can_check
            and self._unsub_check is None
        ):
            self._schedule_check(delay)

    # --- a check ----------------------------------------------------------

    async def _async_frame(self, camera_entity_id: str) -> Frame:
        """Take one frame from the camera, downscaled in the executor."""
        image = await async_get_image(self.hass, camera_entity_id)
        return await self.hass.async_add_executor_job(
            prepare_frame, image.content, dt_util.utcnow(), self._long_side
        )

    async def _async_check_and_decide(self) -> float:
        """Run one scheduled check; return the seconds until the next one."""
        interval = self.settings.check_interval
        generation = self._generation
        try:
            frame = await self._async_frame(self.settings.camera_entity_id)
        except (HomeAssistantError, ValueError) as err:
            self._outage(f"camera: {err}")
            self._record_check({"error": f"camera: {err}"})  # records
            return interval
        self._buffer.append(frame)
        self.state.last_frame = frame
        frames = self._buffer.frames(
            min(self.settings.frame_count, self.detector.max_frames)
        )
        try:
            verdict = await self.detector.async_analyze(frames)
        except DetectorAuthError as err:
            self._stop_for_auth(err)
            return interval
        except DetectorFrameRejected as err:
            _LOGGER.debug("The detector could not use a frame: %s", err)
            self.state.last_check = dt_util.utcnow()
            self._notify()
            return interval
        except DetectorPaced as err:
            # not an outage: the service's wait (e.g. after a check on demand) runs
            _LOGGER.debug("Check for %s waits: %s", self.entry.title, err)
            return err.retry_after or interval
        except DetectorError as err:
            self._outage(str(err))
            self._record_check({"error": str(err)})  # records
            if self._still_current(generation):
                self._step(NoVerdict.from_error(err))
            return max(interval, err.retry_after or 0)
        self._recovered()
        self._record(verdict)
        if not self._still_current(generation):
            # the answer took long: the print ended, was paused or resumed, or a
            # new one started meanwhile; what it saw is not this print any more
            _LOGGER.debug(
                "Dropping a late verdict for %s: the print changed during the check",
                self.entry.title,
            )
            self._notify()
            return interval
        decision = self._step(verdict)
        self._record_check(  # records
            {
                "score": verdict.failure_score,
                "kind": verdict.kind.value,
                "reason": verdict.reason,
                "decision": decision.value,
            }
        )
        await self._async_act(decision, verdict, frame)
        next_check = interval
        if decision is Decision.WARNING or verdict.failure_score >= SUSPECT_SCORE:
            next_check = max(MIN_CHECK_INTERVAL, interval / 2)
        if verdict.next_check_after:
            next_check = max(next_check, verdict.next_check_after)
        return next_check

    def _record_check(self, check: dict[str, Any]) -> None:
        """Note a check in the print's record (records/; no-op without one)."""
        async_record_check(self.hass, self.entry.entry_id, check)

    def _still_current(self, generation: int) -> bool:
        """Whether the print a check started on is still printing, unchanged."""
        snapshot = self.coordinator.data
        return (
            generation == self._generation
            and self._can_check
            and self.coordinator.last_update_success
            and snapshot is not None
            and snapshot.state is PrinterState.PRINTING
        )

    def _record(self, verdict: Verdict) -> None:
        today = dt_util.now().date()
        if self.state.usage_day != today:
            self.state.usage_today = UsageCounter()
            self.state.usage_day = today
        self.state.usage_print.add(verdict)
        self.state.usage_today.add(verdict)
        self.state.last_verdict = verdict
        self.state.last_check = dt_util.utcnow()
        self.state.last_error = None

    def _step(self, observation: Verdict | NoVerdict) -> Decision:
        self.policy_state, decision = self.policy.step(
            self.policy_state, observation, self._now
        )
        self.state.decision = decision
        self._notify()
        return decision

    def _outage(self, error: str) -> None:
        self.state.last_error = error
        if not self._failing:
            self._failing = True
            _LOGGER.warning(
                "Failure detection for %s is not working: %s; retrying",
                self.entry.title,
                error,
            )
        self._notify()

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            _LOGGER.info("Failure detection for %s works again", self.entry.title)

    def _stop_for_auth(self, err: DetectorAuthError) -> None:
        self._stopped_by_auth = True
        self._cancel_check()
        self.state.last_error = err.error_type
        _LOGGER.error(
            "The %s detector refused the API key for %s (%s); failure detection is "
            "off until the options are fixed",
            self.detector.name,
            self.entry.title,
            err.error_type,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"detector_auth_{self.entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="detector_auth_failed",
            translation_placeholders={
                "printer": self.entry.title,
                "detector": self.detector.name,
                "reason": err.error_type,
            },
        )
        self._notify()

    # --- acting -----------------------------------------------------------

    async def _async_act(
        self, decision: Decision, verdict: Verdict, frame: Frame
    ) -> None:
        if decision is Decision.FAILURE and not self._acted:
            self._acted = True
            self.state.flagged_frame = frame
            action = await self._async_failure_action(verdict)
            self._emit("failure", verdict, action)
        elif decision is Decision.WARNING and not self._warned and not self._acted:
            self._warned = True
            self.state.flagged_frame = frame
            action = ACTION_NONE
            if self.settings.warning_action == ACTION_NOTIFY:
                self._persistent_notification("warning", verdict)
                action = "notified"
            self._emit("warning", verdict, action)
        elif decision is Decision.OK:
            self._warned = False

    async def _async_failure_action(self, verdict: Verdict) -> str:
        action = self.settings.failure_action
        backend = self.coordinator.backend
        try:
            if action == ACTION_PAUSE:
                await backend.async_pause()
                result = "paused"
            elif action == ACTION_CANCEL:
                await backend.async_cancel()
                result = "cancelled"
            else:
                result = "notified"
        except PrinterError as err:
            _LOGGER.error(
                "Print Sentinel saw a failure on %s but could not %s the print: %s",
                self.entry.title,
                action,
                err,
            )
            result = f"{action}_failed"
        self._persistent_notification("failure", verdict, result)
        await self.coordinator.async_request_refresh()
        return result

    def _persistent_notification(
        self, level: str, verdict: Verdict, action: str = ACTION_NOTIFY
    ) -> None:
        what = {
            "paused": "Print Sentinel paused the print.",
            "cancelled": "Print Sentinel stopped the print.",
            "notified": "Check the print.",
        }.get(action, f"Print Sentinel could not act ({action}); check the print.")
        persistent_notification.async_create(
            self.hass,
            f"{verdict.kind.value.replace('_', ' ').capitalize()} "
            f"(score {verdict.failure_score:.0f}): {verdict.reason}\n\n{what}",
            title=f"{self.entry.title}: possible print {level}",
            notification_id=f"{DOMAIN}_{self.entry.entry_id}_detection",
        )

    def _emit(self, level: str, verdict: Verdict, action: str) -> None:
        event = DetectionEvent(
            level=level, verdict=verdict, action=action, at=dt_util.utcnow()
        )
        self.state.last_event = event
        for listener in list(self._event_listeners):
            listener(event)
        self.hass.bus.async_fire(
            EVENT_DETECTION,
            {
                "entry_id": self.entry.entry_id,
                "device_id": self.entry.runtime_data.extra.get("device_id"),
                "level": level,
                "verdict": verdict.as_dict(),
                "action": action,
                "image_entity_id": self.entry.runtime_data.extra.get(
                    "flagged_frame_entity_id"
                ),
            },
        )
        self._notify()

    # --- user controls and the service ------------------------------------

    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        """The switch: turn detection off (or on again) for the current print."""
        self.state.enabled = enabled
        self._generation += 1
        if not enabled:
            self._cancel_check()
        self._handle_printer_update()
        self._notify()

    @callback
    def async_reset(self) -> None:
        """Forget everything decided for this print and start clean."""
        self.policy_state = self.policy.on_new_print(self._now, self.policy_state)
        self._generation += 1
        self._buffer.clear()
        self._acted = False
        self._warned = False
        self._stopped_by_auth = False
        self.state.decision = Decision.OK
        self.state.enabled = True
        self.state.last_error = None
        ir.async_delete_issue(self.hass, DOMAIN, f"detector_auth_{self.entry.entry_id}")
        self._handle_printer_update()
        self._notify()

    async def async_vision_check(
        self,
        *,
        camera_entity_id: str | None = None,
        detector: Detector | None = None,
        frame_count: int | None = None,
    ) -> dict[str, Any]:
        """Run a check now and return the verdict; does not pause or stop anything."""
        detector = detector or self.detector
        frame = await self._async_frame(
            camera_entity_id or self.settings.camera_entity_id
        )
        count = min(frame_count or self.settings.frame_count, detector.max_frames)
        frames = (
            [*self._buffer.frames()[-(count - 1) :], frame] if count > 1 else [frame]
        )
        verdict = await detector.async_analyze(frames)
        self._record(verdict)
        self.state.last_frame = frame
        self._notify()
        return {
            **verdict.as_dict(),
            "frames": len(frames),
            "decision": self.state.decision.value,
            "camera_entity_id": camera_entity_id or self.settings.camera_entity_id,
        }

    def diagnostics(self) -> dict[str, Any]:
        """Return what the monitor knows, for diagnostics (nothing secret)."""
        verdict = self.state.last_verdict
        return {
            "detector": self.detector.name,
            "camera_entity_id": self.settings.camera_entity_id,
            "check_interval": self.settings.check_interval,
            "frame_count": self.settings.frame_count,
            "failure_action": self.settings.failure_action,
            "warning_action": self.settings.warning_action,
            "enabled": self.state.enabled,
            "stopped_by_auth": self._stopped_by_auth,
            "decision": self.state.decision.value,
            "last_verdict": verdict.as_dict() if verdict else None,
            "last_error": self.state.last_error,
            "policy": policy_state_as_dict(self.policy_state),
            "usage_print": vars(self.state.usage_print),
            "usage_today": vars(self.state.usage_today),
        }


async def async_check_once(
    hass: HomeAssistant, camera_entity_id: str, detector: Detector
) -> dict[str, Any]:
    """Check one fresh frame with `detector` when no monitor runs (service override)."""
    image = await async_get_image(hass, camera_entity_id)
    frame = await hass.async_add_executor_job(
        prepare_frame,
        image.content,
        dt_util.utcnow(),
        DETECTOR_LONG_SIDE.get(detector.name, DEFAULT_LONG_SIDE),
    )
    verdict = await detector.async_analyze([frame])
    return {
        **verdict.as_dict(),
        "frames": 1,
        "decision": None,
        "camera_entity_id": camera_entity_id,
    }
