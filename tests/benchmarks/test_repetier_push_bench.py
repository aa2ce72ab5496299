"""The Repetier push benchmark, run short: push asks less over HTTP and is sooner.

It runs a Home Assistant of its own (frozen clock, loopback simulator), so it runs
in its own process, as the poll benchmark's test does.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SHORT = [
    "--seeds",
    "1",
    "--idle-minutes",
    "1",
    "--print-minutes",
    "2",
    "--tail-minutes",
    "1",
    "--pauses",
    "1",
]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: the benchmark brings its own HA."""


@pytest.fixture(scope="module")
def short_run() -> dict[str, list[float]]:
    """The figures of a short run: name -> [push, poll]."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.repetier_push", *SHORT, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_push_makes_fewer_http_requests_than_polling(
    short_run: dict[str, list[float]],
) -> None:
    for phase in ("idle", "printing"):
        push, poll = short_run[f"{phase}_http_per_minute"]
        assert push < poll, phase
    # the state comes over the socket instead, and the benchmark counts that
    push_socket, poll_socket = short_run["printing_socket_per_minute"]
    assert push_socket > 0
    assert poll_socket == 0


def test_push_sees_a_state_change_sooner(short_run: dict[str, list[float]]) -> None:
    # start, pause, resume, end: every change seen by both
    assert short_run["changes_seen"] == [4, 4]
    assert short_run["changes_missed"] == [0, 0]
    push_median, poll_median = short_run["state_delay_median_s"]
    push_max, poll_max = short_run["state_delay_max_s"]
    assert push_median < poll_median
    assert push_max < poll_max
