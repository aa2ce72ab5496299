"""`job_events`: what happened to a print between two polls."""

from __future__ import annotations

import pytest

from custom_components.print_sentinel.job_events import (
    CANCELLED,
    FAILED,
    FINISHED,
    JOB_EVENT_TYPES,
    PAUSED,
    RESUMED,
    STARTED,
    compared_next,
    job_events,
)
from custom_components.print_sentinel.printers.base import (
    JobSnapshot,
    PrinterSnapshot,
    PrinterState as S,
)


def _poll(
    state: S, job_id: int | None = None, progress: float | None = None
) -> PrinterSnapshot:
    job = None
    if job_id is not None:
        job = JobSnapshot(id=job_id, name=f"job{job_id}.bgcode", progress=progress)
    return PrinterSnapshot(state=state, job=job)


def test_event_types_are_the_six_documented_ones() -> None:
    assert JOB_EVENT_TYPES == [STARTED, PAUSED, RESUMED, FINISHED, CANCELLED, FAILED]


@pytest.mark.parametrize(
    "current",
    [
        _poll(S.IDLE),
        _poll(S.PRINTING, 7, 40),
        _poll(S.PAUSED, 7, 40),
        _poll(S.FINISHED, 7, 100),
        _poll(S.ERROR, 7, 40),
    ],
    ids=lambda p: p.state.value,
)
def test_first_poll_after_start_up_reports_nothing(current: PrinterSnapshot) -> None:
    assert job_events(None, current) == []


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        # a job begins
        (_poll(S.IDLE), _poll(S.PRINTING, 1, 0), [STARTED]),
        (_poll(S.READY), _poll(S.PRINTING, 1, 0), [STARTED]),
        (_poll(S.FINISHED, 1, 100), _poll(S.PRINTING, 2, 0), [STARTED]),
        (_poll(S.STOPPED, 1, 30), _poll(S.PRINTING, 2, 0), [STARTED]),
        # started and paused before we looked
        (_poll(S.IDLE), _poll(S.PAUSED, 1, 3), [STARTED, PAUSED]),
        # pause and resume
        (_poll(S.PRINTING, 1, 10), _poll(S.PAUSED, 1, 10), [PAUSED]),
        (_poll(S.PAUSED, 1, 10), _poll(S.PRINTING, 1, 10), [RESUMED]),
        # the end, as the printer reports it
        (_poll(S.PRINTING, 1, 99), _poll(S.FINISHED, 1, 100), [FINISHED]),
        (_poll(S.PRINTING, 1, 40), _poll(S.STOPPED, 1, 40), [CANCELLED]),
        (_poll(S.PAUSED, 1, 40), _poll(S.STOPPED, 1, 40), [CANCELLED]),
        (_poll(S.PRINTING, 1, 40), _poll(S.ERROR, 1, 40), [FAILED]),
        (_poll(S.PAUSED, 1, 40), _poll(S.ERROR, 1, 40), [FAILED]),
        # the end screen was missed: the job is simply gone; progress tells
        (_poll(S.PRINTING, 1, 99), _poll(S.IDLE), [FINISHED]),
        (_poll(S.PRINTING, 1, 60), _poll(S.IDLE), [CANCELLED]),
        (_poll(S.PAUSED, 1, 60), _poll(S.IDLE), [CANCELLED]),
        (_poll(S.PRINTING, 1, None), _poll(S.IDLE), [CANCELLED]),
        (_poll(S.PRINTING, 1, 60), _poll(S.ERROR), [FAILED]),
        # nothing happened to the job
        (_poll(S.IDLE), _poll(S.IDLE), []),
        (_poll(S.PRINTING, 1, 10), _poll(S.PRINTING, 1, 11), []),
        (_poll(S.PAUSED, 1, 10), _poll(S.PAUSED, 1, 10), []),
        (_poll(S.FINISHED, 1, 100), _poll(S.FINISHED, 1, 100), []),
        (_poll(S.FINISHED, 1, 100), _poll(S.IDLE), []),
        (_poll(S.STOPPED, 1, 40), _poll(S.IDLE), []),
        (_poll(S.IDLE), _poll(S.ERROR), []),
        (_poll(S.IDLE), _poll(S.BUSY), []),
        (_poll(S.ERROR), _poll(S.IDLE), []),
    ],
    ids=lambda v: v.state.value if isinstance(v, PrinterSnapshot) else ",".join(v),
)
def test_transitions(
    previous: PrinterSnapshot, current: PrinterSnapshot, expected: list[str]
) -> None:
    assert job_events(previous, current) == expected


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        # finished, and the next job already runs
        (_poll(S.PRINTING, 1, 99), _poll(S.PRINTING, 2, 1), [FINISHED, STARTED]),
        # cancelled half-way, the next one runs
        (_poll(S.PRINTING, 1, 50), _poll(S.PRINTING, 2, 1), [CANCELLED, STARTED]),
        # cancelled while paused, the next one is already paused
        (
            _poll(S.PAUSED, 1, 50),
            _poll(S.PAUSED, 2, 1),
            [CANCELLED, STARTED, PAUSED],
        ),
        # the new job is done too: one end, no start we could vouch for
        (_poll(S.PRINTING, 1, 99), _poll(S.FINISHED, 2, 100), [FINISHED]),
    ],
    ids=["finished", "cancelled", "paused", "both_done"],
)
def test_a_job_ended_and_a_new_one_started_between_polls(
    previous: PrinterSnapshot, current: PrinterSnapshot, expected: list[str]
) -> None:
    assert job_events(previous, current) == expected


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (_poll(S.PRINTING, 1, 40), _poll(S.ATTENTION, 1, 40), []),
        (_poll(S.ATTENTION, 1, 40), _poll(S.PRINTING, 1, 40), []),
        (_poll(S.ATTENTION, 1, 40), _poll(S.STOPPED, 1, 40), [CANCELLED]),
    ],
    ids=["to_attention", "continued", "stopped_in_attention"],
)
def test_attention_is_a_pause_in_the_job_not_its_end(
    previous: PrinterSnapshot, current: PrinterSnapshot, expected: list[str]
) -> None:
    # ATTENTION (filament runout, crash detection) waits for the user; pressing
    # Continue goes on printing the same job
    assert job_events(previous, current) == expected


def _follow(*polls: PrinterSnapshot) -> list[str]:
    """The events a printer's polls give, compared as the entities compare them."""
    events: list[str] = []
    previous: PrinterSnapshot | None = None
    for current in polls:
        events += job_events(previous, current)
        previous = compared_next(previous, current)
    return events


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((S.PRINTING, S.PAUSED, S.ATTENTION, S.PRINTING), [PAUSED, RESUMED]),
        ((S.PRINTING, S.ATTENTION, S.PAUSED, S.PRINTING), [PAUSED, RESUMED]),
        ((S.PRINTING, S.ATTENTION, S.ATTENTION, S.PRINTING), []),
        ((S.PAUSED, S.ATTENTION, S.IDLE), [PAUSED, CANCELLED]),
        ((S.PRINTING, S.ATTENTION, S.FINISHED), [FINISHED]),
    ],
    ids=["resumed_through", "paused_through", "prompt", "stopped", "finished"],
)
def test_a_stop_within_the_job_is_looked_through(
    states: tuple[S, ...], expected: list[str]
) -> None:
    # a filament prompt, or a value no list names, between two job states
    progress = {S.FINISHED: 100.0}
    polls = [_poll(S.IDLE)] + [_poll(s, 1, progress.get(s, 40.0)) for s in states]
    assert _follow(*polls) == [STARTED, *expected]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (_poll(S.PRINTING, 1, 41), []),
        (_poll(S.PAUSED, 1, 41), [PAUSED]),
        (_poll(S.STOPPED, 1, 41), [CANCELLED]),
        (_poll(S.IDLE), [CANCELLED]),
        (_poll(S.PRINTING, 2, 1), [CANCELLED, STARTED]),
    ],
    ids=["continued", "paused", "stopped", "idle", "another_job"],
)
def test_a_prompt_that_shows_no_job_is_still_within_the_job(
    after: PrinterSnapshot, expected: list[str]
) -> None:
    # a printer whose prompt (filament runout) reports no job for a while: no
    # cancelled and started of the same print around it
    polls = [_poll(S.IDLE), _poll(S.PRINTING, 1, 40), _poll(S.ATTENTION), after]
    assert _follow(*polls) == [STARTED, *expected]


def test_a_prompt_without_a_job_after_none_is_no_job() -> None:
    # idle, then a prompt with no job (e.g. "remove the print"): nothing started
    assert _follow(_poll(S.IDLE), _poll(S.ATTENTION), _poll(S.IDLE)) == []
