"""What happened to a print between two polls (pure; no Home Assistant)."""

from __future__ import annotations

from .printers.base import ACTIVE_STATES, PrinterSnapshot, PrinterState

STARTED = "started"
PAUSED = "paused"
RESUMED = "resumed"
FINISHED = "finished"
CANCELLED = "cancelled"
FAILED = "failed"
JOB_EVENT_TYPES = [STARTED, PAUSED, RESUMED, FINISHED, CANCELLED, FAILED]
ENDINGS = frozenset({FINISHED, CANCELLED, FAILED})

JOB_STATES = ACTIVE_STATES | {PrinterState.ATTENTION}
"""States in which a job goes on: ATTENTION (e.g. a filament change) is a stop
within the job, not its end."""

_ENDINGS = {
    PrinterState.FINISHED: FINISHED,
    PrinterState.STOPPED: CANCELLED,
    PrinterState.ERROR: FAILED,
}


def job_events(previous: PrinterSnapshot | None, current: PrinterSnapshot) -> list[str]:
    """Return the job events between two polls, oldest first.

    Nothing is reported for the first poll after start-up: a print that was already
    running when Home Assistant started did not just start.
    """
    if previous is None:
        return []
    was_active = _in_job(previous)
    if _jobless_prompt(current) and was_active:
        return []  # a prompt within the job that shows no job (see compared_next)
    events: list[str] = []
    prev_job = previous.job.id if previous.job else None
    cur_job = current.job.id if current.job else None
    is_active = _in_job(current)

    if was_active and prev_job is not None and cur_job != prev_job:
        # The previous job ended between polls without us seeing its end state.
        ending = _ENDINGS.get(current.state)
        if ending is None:
            done = previous.job.progress if previous.job else None
            ending = FINISHED if done is not None and done >= 99 else CANCELLED
        events.append(ending)
        was_active = False
    elif was_active and not is_active:
        ending = _ENDINGS.get(current.state)
        if ending is None:
            done = previous.job.progress if previous.job else None
            ending = FINISHED if done is not None and done >= 99 else CANCELLED
        events.append(ending)

    if is_active and (not was_active or cur_job != prev_job):
        events.append(STARTED)
        if current.state is PrinterState.PAUSED:
            events.append(PAUSED)
    elif was_active and is_active:
        if (
            previous.state is PrinterState.PRINTING
            and current.state is PrinterState.PAUSED
        ):
            events.append(PAUSED)
        elif (
            previous.state is PrinterState.PAUSED
            and current.state is PrinterState.PRINTING
        ):
            events.append(RESUMED)
    return events


def _in_job(snapshot: PrinterSnapshot) -> bool:
    """Whether a job goes on: an active state, or a prompt that names its job."""
    return snapshot.state in ACTIVE_STATES or (
        snapshot.state in JOB_STATES and snapshot.job is not None
    )


def _jobless_prompt(snapshot: PrinterSnapshot) -> bool:
    return snapshot.state is PrinterState.ATTENTION and snapshot.job is None


def compared_next(
    previous: PrinterSnapshot | None, current: PrinterSnapshot
) -> PrinterSnapshot:
    """Return the snapshot the next poll is compared with.

    A stop within a printing or paused job (attention: a filament prompt, a value
    no list names) is looked through, so paused, attention, printing is a resume
    and printing, attention, paused a pause. A prompt that shows no job (some
    printers report none while they wait) is within the job too: the job goes on
    or ends when the printer says so, not when its name is missing for a while.
    """
    if (
        current.state is PrinterState.ATTENTION
        and previous is not None
        and previous.state in ACTIVE_STATES
        and (
            current.job is None
            or (previous.job.id if previous.job else None) == current.job.id
        )
    ):
        return previous
    return current
