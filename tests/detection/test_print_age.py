"""How old a print is when the monitor first follows it (a restart, a reload)."""

from __future__ import annotations

import pytest

from custom_components.print_sentinel.detection.monitor import print_age
from custom_components.print_sentinel.printers.base import (
    JobSnapshot,
    PrinterSnapshot,
    PrinterState,
)


def _printing(job: JobSnapshot) -> PrinterSnapshot:
    return PrinterSnapshot(state=PrinterState.PRINTING, job=job)


@pytest.mark.parametrize("first_sight", [True, False])
def test_the_printers_own_print_time_is_the_age(first_sight: bool) -> None:
    job = JobSnapshot(id=7, progress=40.0, time_remaining=60, time_printing=1800)
    assert print_age(_printing(job), first_sight=first_sight) == 1800.0


def test_without_a_print_time_the_age_follows_from_progress_and_time_left() -> None:
    # a watched Bambu or Klipper printer: 25 % done, 90 min to go
    job = JobSnapshot(id="print", progress=25.0, time_remaining=5400)
    assert print_age(_printing(job), first_sight=True) == pytest.approx(1800.0)


def test_progress_alone_makes_a_print_found_running_old() -> None:
    job = JobSnapshot(id="print", progress=25.0)
    assert print_age(_printing(job), first_sight=True) is None
    # while watched, a job that appears is one that just started
    assert print_age(_printing(job), first_sight=False) == 0.0


@pytest.mark.parametrize(
    "job",
    [
        JobSnapshot(id="print"),
        JobSnapshot(id="print", progress=0.0, time_remaining=7200),
    ],
)
def test_a_print_at_its_start_or_of_unknown_progress_is_new(job: JobSnapshot) -> None:
    assert print_age(_printing(job), first_sight=True) == 0.0
