"""How soon the PrusaLink backend asks to be polled again, and the HA benchmark."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import re
import subprocess
import sys

import httpx
import pytest

from custom_components.print_sentinel.const import DEFAULT_PRINTING_INTERVAL
from custom_components.print_sentinel.printers.prusalink import (
    FAST_SECONDS,
    PrusaLinkBackend,
)
from simulators.prusalink import PrusaLinkSimulator

PASSWORD = "polling-Secret-pw"
FIGURE = re.compile(
    r"^(?P<name>poll\.[a-z0-9_.]+): (?P<ours>[0-9.]+) \S+ \(core: (?P<core>[0-9.]+) "
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client() -> AsyncGenerator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def test_intervals_through_a_print(client: httpx.AsyncClient) -> None:
    clock = Clock()
    async with PrusaLinkSimulator(PASSWORD) as sim:
        backend = PrusaLinkBackend(client, sim.url, "maker", PASSWORD, clock=clock)
        idle = await backend.async_poll()
        assert backend.poll_interval(idle, 6, 30) == 30
        clock.now += 301  # idle a while: half as often
        assert backend.poll_interval(await backend.async_poll(), 6, 30) == 60

        sim.start_job(duration=3600)
        printing = await backend.async_poll()
        assert backend.poll_interval(printing, 10, 30) == 10
        assert backend.poll_interval(printing, 20, 30) == 20  # a slower choice holds

        await backend.async_pause()  # the user waits to see it paused
        assert backend.poll_interval(await backend.async_poll(), 6, 30) == FAST_SECONDS
        clock.now += 16
        paused = await backend.async_poll()
        assert backend.poll_interval(paused, 10, 30) == 10
        sim.resume()

        sim.advance(3600 - 50)  # the job's last minute: the end shows at once
        assert backend.poll_interval(await backend.async_poll(), 6, 30) == FAST_SECONDS
        sim.advance(60)
        finished = await backend.async_poll()
        assert backend.poll_interval(finished, 6, 30) == 30
        sim.set_state("BUSY", clear_job=True)  # e.g. homing from the screen
        assert backend.poll_interval(await backend.async_poll(), 6, 30) == 6


def test_benchmark_runs_core_and_ours_side_by_side() -> None:
    # its own process: the benchmark runs a Home Assistant of its own
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.poll",
            "--flavour",
            "mk3s",
            "--print-hours",
            "0.5",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = {}
    for line in done.stdout.splitlines():
        if match := FIGURE.match(line):
            figures[match["name"]] = (float(match["ours"]), float(match["core"]))
    ours, core = figures["poll.mk3s.printing.requests_per_minute"]
    assert 0 < ours < core
    ours, core = figures["poll.mk3s.printing.state_delay_p95"]
    assert ours <= DEFAULT_PRINTING_INTERVAL < core
    assert "changes never seen: ours 0, core 0" in done.stdout
    assert re.search(
        r"ours: /api/v1/status [0-9.]+.*; [1-9][0-9]* Digest 401", done.stdout
    )
