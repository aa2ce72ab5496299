"""The monitor: ties a printer, a camera, a detector and the policy together.

While the printer prints, it takes a frame from the camera every check interval
(sooner while a failure is suspected), asks the detector, feeds the verdict to the
decision policy, and acts once when the policy decides: a warning notifies, a
failure notifies, pauses or cancels — never on an error or an unclear answer,
because errors never reach the policy as verdicts.

The parts: `state` (what is kept), `scheduler` (check timing), `actions`
(pause/stop, notifications), `usage` (calls and cost), `on_demand` (frames, the
check on demand), `timeline` (the print's verdicts, for diagnostics) and
`baseline` (what the printer's camera normally scores, kept across prints and
restarts). This module follows the
printer through a print's life and keeps what was decided in one `PrintRun`,
replaced whole on a new print, a resume and a reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later, async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import ACTION_NONE, ACTION_NOTIFY, DOMAIN
from ..coordinator import PrinterCoordinator
from ..job_events import JOB_STATES
from ..links import EntityLinks
from ..printers.base import (
    ACTIVE_STATES,
    PRINTER_FAILURE,
    PrinterSnapshot,
    PrinterState,
)
from ..records.signals import async_record_check
from .actions import RESULT_NOTIFIED, RESULT_PAUSED, Actions, DetectionEvent
from .baseline import BaselineStore
from .frames import FrameBuffer, StillPicture
from .on_demand import async_check_now, async_take_frame, check_result, frame_long_side
from .policy import Decision, NoVerdict, Policy, PolicyState, policy_state_as_dict
from .scheduler import MIN_CHECK_INTERVAL, CheckScheduler, next_check_delay
from .state import DetectionSettings, MonitorState, PrintRecord, PrintRun
from .timeline import Timeline
from .verdict import (
    Detector,
    DetectorAuthError,
    DetectorError,
    DetectorFrameRejected,
    DetectorPaced,
    FailureKind,
    Frame,
    Verdict,
    stored_frame,
    stored_verdict,
)

__all__ = [
    "DetectionEvent",
    "DetectionMonitor",
    "DetectionSettings",
    "MonitorState",
    "PrintRecord",
    "PrintRun",
]

_LOGGER = logging.getLogger(__name__)

ACTION_ATTEMPTS: Final = 3
"""Checks that try the failure action on a print the printer did not pause or stop."""

STILL_CHECKS: Final = 5
STILL_SECONDS: Final = 300.0
"""A picture byte for byte the same for this many checks and seconds is frozen."""
STILL_PICTURE: Final = "camera: its picture has not changed for minutes (frozen)"

CAMERA_GONE_CHECKS: Final = 3
"""Checks in a row without the camera entity before a repair issue asks the user."""

FALSE_ALARM_WINDOW = timedelta(hours=1)
"""After the print moved on, a warning or failure can be marked false this long."""


_PAUSE_OVER: Final = frozenset(
    {
        PrinterState.PRINTING,
        PrinterState.FINISHED,
        PrinterState.STOPPED,
        PrinterState.IDLE,
        PrinterState.READY,
    }
)
"""States that end a pause: printing again, or the print is over."""


def print_age(snapshot: PrinterSnapshot, *, first_sight: bool) -> float | None:
    """How long the snapshot's print has run (seconds); None: unknown, not new.

    The printer's own print time when it reports one; else the share of the print
    done and the time left; else a print found running (`first_sight`, the first
    poll since set-up) that has made progress is old, and one seen starting is new.
    """
    job = snapshot.job
    if job is None:
        return 0.0
    if job.time_printing is not None:
        return float(job.time_printing)
    progress = job.progress
    if progress is not None and job.time_remaining is not None and 0 < progress < 100:
        return job.time_remaining * progress / (100.0 - progress)
    if first_sight and progress is not None and progress > 0:
        return None
    return 0.0


def _stored_time(text: object) -> datetime | None:
    """A time kept on disk (ISO, with its zone); None for anything else."""
    at = (
        dt_util.parse_datetime(text)
        # the C date parser crashes the process on a lone surrogate
        if isinstance(text, str) and text.isascii() and len(text) <= 40
        else None
    )
    return at if at is not None and at.tzinfo is not None else None


class DetectionMonitor:
    """Watches one printer's prints through one detector."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        coordinator: PrinterCoordinator,
        detector: Detector,
        policy: Policy,
        settings: DetectionSettings,
        links: EntityLinks,
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
        self.baselines = BaselineStore(hass, entry.entry_id)
        self.links = links
        """Ids of the printer's device and image entities, for events."""
        self.actions = Actions(hass, entry, coordinator, links)
        self.scheduler = CheckScheduler(hass, self._check_due)
        self._buffer = FrameBuffer(max(settings.frame_count, 1))
        self._listeners: list[CALLBACK_TYPE] = []
        self._event_listeners: list[Callable[[DetectionEvent], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._run = PrintRun(generation=0)
        self._print = PrintRecord()
        self._last_state: PrinterState | None = None
        self._check_owed = False
        """A check fell due while the printer was unreachable."""
        self._paused = False
        """The print was paused and has not printed since (whatever came between)."""
        self._stopped_by_auth = False
        self._failing = False
        self._camera_missing = 0
        """Checks in a row that found no camera entity at all (deleted, renamed)."""
        self._still = StillPicture(STILL_CHECKS, STILL_SECONDS)
        self._camera_frozen = False
        """The camera sends the same picture every check (its repair issue is up)."""
        self._unsub_false_alarm_window: CALLBACK_TYPE | None = None

    # --- lifecycle --------------------------------------------------------

    async def async_load(self) -> None:
        """Read the printer's baseline (before `async_start`)."""
        await self.baselines.async_load()
        # today's cost does not start again at zero with each restart
        self.state.usage.restore_today(self.baselines.usage, dt_util.now().date())

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the coordinator; returns the function that stops everything."""
        self._unsubs = [
            self.coordinator.async_add_listener(self._handle_printer_update),
            async_track_time_change(
                self.hass, self._new_day, hour=0, minute=0, second=0
            ),
        ]
        self._handle_printer_update()
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop checking."""
        while self._unsubs:
            self._unsubs.pop()()
        self.scheduler.cancel()
        self._cancel_false_alarm_window()
        self.actions.delete_camera_issue()  # set up again, the camera is looked for anew

    @callback
    def _new_day(self, _now: datetime) -> None:
        """Start today's usage at zero, even on a day without checks."""
        self.state.usage.new_day(dt_util.now().date())
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

    @property
    def long_side(self) -> int:
        """The long side (pixels) of the frames the detector gets."""
        return frame_long_side(self.detector.name, self.entry.options)

    @callback
    def _handle_printer_update(self) -> None:
        snapshot: PrinterSnapshot | None = self.coordinator.data
        if not self.coordinator.last_update_success or snapshot is None:
            # a check already scheduled stays: it is skipped if the printer is still
            # unreachable when it is due, so outages shorter than the check
            # interval cost no check
            return
        job_id = snapshot.job.id if snapshot.job else None
        previous = self._last_state
        self._last_state = snapshot.state
        paused = self._paused
        if snapshot.has_job and job_id != self._print.job_id and job_id is not None:
            self._start_print(job_id, print_age(snapshot, first_sight=previous is None))
            paused = False
        elif paused and snapshot.state is PrinterState.PRINTING:
            # straight from paused, or through a prompt or homing in between
            self._resumed()
        elif previous in JOB_STATES and snapshot.state not in JOB_STATES:
            # a stop within the print (attention: a filament prompt) is no end
            self._print_ended(snapshot.state)
        if snapshot.state is PrinterState.PAUSED:
            self._paused = True
        elif snapshot.state in _PAUSE_OVER:
            self._paused = False
        else:
            self._paused = paused
        if (reason := snapshot.extra.get(PRINTER_FAILURE)) and (
            snapshot.has_job or previous in ACTIVE_STATES
        ):
            self._printer_decided(str(reason))
        if snapshot.state is PrinterState.PRINTING and self._can_check:
            if self.scheduler.idle:
                owed, self._check_owed = self._check_owed, False
                self.scheduler.schedule(
                    MIN_CHECK_INTERVAL if owed else self.settings.check_interval
                )
        else:
            self.scheduler.cancel()
            self._check_owed = False

    @callback
    def _printer_decided(self, reason: str) -> None:
        """The printer's own detection says this print failed: a decided failure.

        The printer stopped or paused by itself, so nothing is pressed; the
        `failure` event and the Failure detected sensor say what happened, once
        per print, and Print Sentinel does not pause it again.
        """
        if self._run.acted:
            return
        self._run = replace(self._run, acted=True)
        self.state.decision = Decision.FAILURE
        verdict = Verdict(
            failure_score=100.0,
            print_quality=None,
            warning=True,
            pause=True,
            kind=FailureKind.OTHER,
            reason=f"The printer detected a failure: {reason}",
            detector="printer",
            latency_ms=0.0,
        )
        self._emit("failure", verdict, ACTION_NONE)

    @property
    def _can_check(self) -> bool:
        return self.state.enabled and not self._stopped_by_auth

    @callback
    def _new_run(self, policy_state: PolicyState) -> None:
        """The one reset of what was decided: a new print, a resume, a reset."""
        self.policy_state = policy_state
        self._run = PrintRun(generation=self._run.generation + 1)
        self.state.decision = policy_state.decision
        self._notify()

    @callback
    def _start_print(self, job_id: object, age: float | None) -> None:
        """A job we have not followed: a new print, or one found running.

        `age` (seconds, None: unknown but not new) keeps a print found running after
        a restart or reload from getting a new quiet period and warm-up.
        """
        # a job we paused before a restart is still paused by us
        ours = self.baselines.paused_job == str(job_id)
        if not ours:
            self.baselines.set_paused_job(None)
        self._print = PrintRecord(job_id=job_id, paused_by_us=ours)
        self._buffer.clear()
        self._still.reset()  # a stream may take a while to come back for a print
        # switched off for this print before a restart or reload: still off
        self.state.enabled = self.baselines.unwatched_job != str(job_id)
        if self.state.enabled:
            self.baselines.set_unwatched_job(None)
        self.state.last_verdict = None
        self.state.usage.restore_print(self.baselines.usage, str(job_id))
        self.hass.async_create_task(
            self.detector.async_start_print(str(job_id)), eager_start=True
        )
        policy_state = self.policy.on_new_print(
            self._now, self.policy_state, self.baselines.baseline, age=age
        )
        # the user's word on this print before a restart or reload still counts
        if (overruled := self.baselines.overrulings_of(str(job_id))) is not None:
            policy_state = self.policy.with_overrulings(policy_state, overruled)
        else:
            self.baselines.set_overrulings(None, {})
        self._new_run(policy_state)
        if ours and self.coordinator.data.state is PrinterState.PAUSED:
            self._run = replace(self._run, own_pause=True)
            self._restore_failure(self.baselines.paused_failure)
        elif ours and self.coordinator.data.state is PrinterState.PRINTING:
            # resumed at the printer while Home Assistant was down: the user's word
            # on our pause, as if seen (and nothing of it left to bring back)
            self._run = replace(self._run, own_pause=True)
            self._resumed()

    @callback
    def _restore_failure(self, stored: dict[str, Any] | None) -> None:
        """Still paused for a failure seen before a restart or reload: show it."""
        if stored is None or (verdict := stored_verdict(stored.get("verdict"))) is None:
            return
        at = _stored_time(stored.get("at")) or dt_util.utcnow()
        self._run = replace(self._run, acted=True)
        self.state.decision = Decision.FAILURE
        # the score, kind and reason it paused for (no check runs while paused)
        self.state.last_verdict = verdict
        self.state.last_check = at
        # the picture the notification showed, on the flagged frame image again
        self.state.flagged_frame = stored_frame(
            stored.get("frame"), _stored_time(stored.get("frame_at")) or at
        )
        self.state.last_event = DetectionEvent(
            level="failure", verdict=verdict, action=RESULT_PAUSED, at=at
        )
        self._notify()

    @callback
    def _resumed(self) -> None:
        own_pause = self._run.own_pause
        self.baselines.set_paused_job(None)
        self._new_run(
            self.policy.on_resume(self.policy_state, self._now, own_pause=own_pause)
        )
        if own_pause:
            self._keep_overrulings()

    @callback
    def _keep_overrulings(self) -> None:
        if self._print.job_id is not None:
            self.baselines.set_overrulings(
                str(self._print.job_id), self.policy.overrulings(self.policy_state)
            )

    @callback
    def _print_ended(self, state: PrinterState) -> None:
        """A print finished, was stopped or failed: learn from a good one."""
        if (
            state is PrinterState.FINISHED
            and not self._print.paused_by_us
            and self.policy_state.decision is not Decision.FAILURE
            and self.policy_state.checks > 0
        ):
            self.baselines.set_baseline(
                self.policy.learn(self.baselines.baseline, self.policy_state)
            )
        if self.state.decision is Decision.WARNING:
            # a warning is about a print that runs; once it ended it is stale
            self.state.decision = Decision.OK
        self._stop_looking()
        self._notify()

    @callback
    def _stop_looking(self) -> None:
        """No more checks for now: a frozen picture is no longer known to be one.

        Its repair issue goes; the next print's checks find a camera still frozen
        again (after as long as the first time).
        """
        self._still.reset()
        if self._camera_frozen:
            self._camera_frozen = False
            self.actions.delete_camera_issue()

    # --- a check ----------------------------------------------------------

    @callback
    def _check_due(self) -> None:
        if not self.coordinator.last_update_success:
            # the printer is unreachable: no check on a print whose state is
            # unknown; the first poll that finds it printing again brings it soon
            self._check_owed = True
            return
        self.entry.async_create_background_task(
            self.hass, self._async_scheduled_check(), f"{DOMAIN} detection check"
        )

    async def _async_scheduled_check(self) -> None:
        delay = self.settings.check_interval
        self.scheduler.running = True
        try:
            delay = await self._async_check_and_decide()
        finally:
            self.scheduler.running = False
        snapshot = self.coordinator.data
        if (
            snapshot is not None
            and snapshot.state is PrinterState.PRINTING
            and self._can_check
            and not self.scheduler.pending
        ):
            self.scheduler.schedule(delay)

    async def _async_check_and_decide(self) -> float:
        """Run one scheduled check; return the seconds until the next one."""
        interval = self.settings.check_interval
        generation = self._run.generation
        try:
            frame = await async_take_frame(
                self.hass, self.settings.camera_entity_id, self.long_side
            )
        except (HomeAssistantError, ValueError) as err:
            self._outage(f"camera: {err}")
            self._record_check({"error": f"camera: {err}"})
            self._camera_gone_check()
            return interval
        if self._still.frozen(frame):
            # the same picture again and again: what it shows is not the print now
            self.state.last_frame = frame
            self._outage(STILL_PICTURE)
            self._record_check({"error": STILL_PICTURE})
            if not self._camera_frozen or self._camera_missing >= CAMERA_GONE_CHECKS:
                # (the camera is back, but still frozen: that is what to tell)
                self._camera_frozen = True
                self.actions.raise_camera_issue(
                    self.settings.camera_entity_id, frozen=True
                )
            self._camera_missing = 0
            return interval
        if self._camera_frozen or self._camera_missing >= CAMERA_GONE_CHECKS:
            self.actions.delete_camera_issue()
        self._camera_missing = 0
        self._camera_frozen = False
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
            self._record_check({"error": str(err)})
            if self._still_current(generation):
                decision = self._step(NoVerdict.from_error(err))
                self._print.timeline.error(
                    dt_util.utcnow(), type(err).__name__, decision.value
                )
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
        self._print.timeline.verdict(dt_util.utcnow(), verdict, decision.value)
        self._record_check(
            {
                "score": verdict.failure_score,
                "kind": verdict.kind.value,
                "reason": verdict.reason,
                "decision": decision.value,
            }
        )
        await self._async_act(decision, verdict, frame)
        return next_check_delay(interval, decision, verdict)

    def _record_check(self, check: dict[str, Any]) -> None:
        """Note a check in the print's record (records/; nothing without one)."""
        async_record_check(self.hass, self.entry.entry_id, check)

    def _still_current(self, generation: int) -> bool:
        """Whether the print a check started on is still printing, unchanged."""
        snapshot = self.coordinator.data
        return (
            generation == self._run.generation
            and self._can_check
            and self.coordinator.last_update_success
            and snapshot is not None
            and snapshot.state is PrinterState.PRINTING
        )

    def _count(self, verdict: Verdict) -> None:
        """Count a verdict's usage, and keep it for after a restart."""
        self.state.usage.add(verdict, dt_util.now().date())
        job = self._print.job_id
        self.baselines.set_usage(
            self.state.usage.as_stored(None if job is None else str(job))
        )

    def _record(self, verdict: Verdict) -> None:
        self._count(verdict)
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

    def _camera_gone_check(self) -> None:
        """Raise a repair issue once the camera entity stays missing for a while.

        A camera that fails is an outage (it may come back); one that is not in
        Home Assistant at all needs the user. A few checks in a row first: at
        start-up another integration's camera may not be loaded yet.
        """
        if self.hass.states.get(self.settings.camera_entity_id) is not None:
            self._camera_missing = 0
            return
        self._camera_missing += 1
        if self._camera_missing == CAMERA_GONE_CHECKS:
            self._camera_frozen = False  # the issue now says it is gone
            self.actions.raise_camera_issue(self.settings.camera_entity_id)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            _LOGGER.info("Failure detection for %s works again", self.entry.title)

    def _stop_for_auth(self, err: DetectorAuthError) -> None:
        self._stopped_by_auth = True
        self.scheduler.cancel()
        self.state.last_error = err.error_type
        _LOGGER.error(
            "The %s detector refused the API key for %s (%s); failure detection is "
            "off until the options are fixed",
            self.detector.name,
            self.entry.title,
            err.error_type,
        )
        self.actions.raise_auth_issue(self.detector.name, err.error_type)
        self._notify()

    # --- acting -----------------------------------------------------------

    async def _async_act(
        self, decision: Decision, verdict: Verdict, frame: Frame
    ) -> None:
        run = self._run
        if decision is Decision.FAILURE and not run.acted:
            self._run = replace(run, acted=True)
            self.state.flagged_frame = frame
            action, retry = await self.actions.async_failure(
                self.settings.failure_action, verdict
            )
            if (
                retry
                and run.attempts + 1 < ACTION_ATTEMPTS
                and self._run.generation == run.generation
            ):
                # the printer did not pause (unreachable, busy): the next check
                # that still finds it printing and failing tries again
                self._run = replace(self._run, acted=False, attempts=run.attempts + 1)
            if action == RESULT_PAUSED:
                self._run = replace(self._run, own_pause=True)
                self._print.paused_by_us = True
            event = self._emit("failure", verdict, action)
            if action == RESULT_PAUSED:
                self.baselines.set_paused_job(
                    str(self._print.job_id),
                    {
                        "at": event.at.isoformat(),
                        "verdict": verdict.as_dict(),
                        "frame": frame.as_stored(),
                        "frame_at": frame.captured_at.isoformat(),
                    },
                )
        elif decision is Decision.WARNING and not run.warned and not run.acted:
            self._run = replace(run, warned=True)
            self.state.flagged_frame = frame
            action = ACTION_NONE
            if self.settings.warning_action == ACTION_NOTIFY:
                await self.actions.async_notify("warning", verdict, RESULT_NOTIFIED)
                action = RESULT_NOTIFIED
            self._emit("warning", verdict, action)
        elif decision is Decision.OK and run.warned:
            self._run = replace(run, warned=False)

    def _emit(self, level: str, verdict: Verdict, action: str) -> DetectionEvent:
        event = DetectionEvent(
            level=level, verdict=verdict, action=action, at=dt_util.utcnow()
        )
        self.state.last_event = event
        self._print.timeline.action(action)
        for listener in list(self._event_listeners):
            listener(event)
        self.actions.fire(event)
        self._cancel_false_alarm_window()
        self._unsub_false_alarm_window = async_call_later(
            self.hass, FALSE_ALARM_WINDOW, self._false_alarm_window_over
        )
        self._notify()
        return event

    @callback
    def _false_alarm_window_over(self, _now: datetime) -> None:
        """The last decision is no longer recent: the false-alarm button says so."""
        self._unsub_false_alarm_window = None
        self._notify()

    @callback
    def _cancel_false_alarm_window(self) -> None:
        if self._unsub_false_alarm_window is not None:
            self._unsub_false_alarm_window()
            self._unsub_false_alarm_window = None

    # --- user controls and the services -----------------------------------

    @property
    def false_alarm_possible(self) -> bool:
        """Whether there is a warning or failure (now or recently) to mark false."""
        event = self.state.last_event
        if event is None or event.false_alarm:
            return False
        return (
            self.state.decision is not Decision.OK
            or dt_util.utcnow() - event.at <= FALSE_ALARM_WINDOW
        )

    @callback
    def async_false_alarm(self) -> bool:
        """The user says the last warning or failure was wrong; False if none."""
        if not self.false_alarm_possible or (event := self.state.last_event) is None:
            return False
        event.false_alarm = True
        now = dt_util.utcnow()
        around = self._print.timeline.false_alarm(now, event.level)
        self.baselines.add_false_alarm(
            {
                "at": now.isoformat(),
                "level": event.level,
                "decided_at": event.at.isoformat(),
                "action": event.action,
                "detector": self.detector.name,
                "policy": self.policy.name,
                "verdicts": around,
            }
        )
        self.actions.dismiss()
        self.baselines.forget_paused_failure()
        own_pause = self._run.own_pause
        self._new_run(self.policy.on_false_alarm(self.policy_state, self._now))
        self._keep_overrulings()
        # a pause we made stays ours: resuming it is still the user's word
        self._run = replace(self._run, own_pause=own_pause)
        return True

    def _job_running(self) -> bool:
        data: PrinterSnapshot | None = self.coordinator.data
        return data is not None and data.state in JOB_STATES

    @callback
    def async_set_enabled(self, enabled: bool) -> None:
        """The switch: turn detection off (or on again) for the current print."""
        self.state.enabled = enabled
        job = self._print.job_id
        self.baselines.set_unwatched_job(
            None if enabled or job is None or not self._job_running() else str(job)
        )
        self._run = replace(self._run, generation=self._run.generation + 1)
        if not enabled:
            self.scheduler.cancel()
            self._stop_looking()
        self._handle_printer_update()
        self._notify()

    @callback
    def async_reset(self) -> None:
        """Forget everything decided for this print and start clean."""
        self._buffer.clear()
        self._stopped_by_auth = False
        self.state.enabled = True
        self.baselines.set_unwatched_job(None)
        # a pause we made is no longer ours to resume (also after a restart), and
        # what the user's word taught is forgotten with the rest
        self.baselines.set_paused_job(None)
        self.baselines.set_overrulings(None, {})
        self.state.last_error = None
        self.actions.delete_auth_issue()
        self._new_run(
            self.policy.on_new_print(
                self._now, self.policy_state, self.baselines.baseline
            )
        )
        self._handle_printer_update()

    async def async_vision_check(
        self,
        *,
        camera_entity_id: str | None = None,
        detector: Detector | None = None,
        frame_count: int | None = None,
    ) -> dict[str, Any]:
        """Run a check now and return the verdict; does not pause or stop anything."""
        detector = detector or self.detector
        camera = camera_entity_id or self.settings.camera_entity_id
        # Another camera shows another scene: its check neither borrows the printer's
        # recent frames nor becomes the printer's verdict, score or last picture.
        own_camera = camera == self.settings.camera_entity_id
        verdict, frame, frames = await async_check_now(
            self.hass,
            detector,
            camera,
            frame_long_side(detector.name, self.entry.options),
            min(frame_count or self.settings.frame_count, detector.max_frames),
            self._buffer.frames() if own_camera else [],
        )
        if own_camera:
            self._record(verdict)
            self.state.last_frame = frame
        else:
            self._count(verdict)
        self._notify()
        return check_result(
            verdict.as_dict(), frames, self.state.decision.value, camera
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return what the monitor knows, for diagnostics (nothing secret)."""
        verdict = self.state.last_verdict
        return {
            "detector": self.detector.name,
            "camera_entity_id": self.settings.camera_entity_id,
            "check_interval": self.settings.check_interval,
            "frame_count": self.settings.frame_count,
            "frame_long_side": self.long_side,
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

    def timeline_diagnostics(self) -> list[dict[str, Any]]:
        """The last print's verdict timeline (bounded), oldest first."""
        return self.print_timeline.as_list()

    @property
    def print_timeline(self) -> Timeline:
        """The current (or last) print's timeline."""
        return self._print.timeline

    def baseline_diagnostics(self) -> dict[str, Any]:
        """The printer's learned baseline and the user's last false alarms."""
        baseline = self.baselines.baseline
        return {
            "baseline": baseline.as_dict() if baseline else None,
            "false_alarms": list(self.baselines.false_alarms),
            "own_pause_resumes": self.policy_state.own_pause_resumes,
            "false_alarms_this_print": self.policy_state.false_alarms,
        }
