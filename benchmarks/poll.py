"""PrusaLink polling: Print Sentinel beside HA core's real `prusalink` integration.

`scripts/bench poll` runs `benchmarks.poll_ha`: both integrations in one test Home
Assistant against one simulator, over a simulated print day, for both firmware
families (see that module). `scripts/bench poll --fleet [--printers 1 50]` runs
the older measurement below instead: the backend's polls with fixed intervals
beside a stand-in of core's requests (not core's integration), for fleets.

The fleet stand-in:

HA core's `prusalink` integration reads five endpoints (`/api/v1/status`,
`/api/v1/job`, `/api/printer`, `/api/v1/info`, `/api/version`) every 30 s, printing
or not. Print Sentinel's `PrusaLinkBackend` reads `/api/v1/status` each poll, every
6 s while a job runs and every 30 s otherwise (`coordinator.FAST_STATES`,
`const.DEFAULT_PRINTING_INTERVAL` / `DEFAULT_IDLE_INTERVAL`), plus `/api/v1/job` and
the loaded material (`/api/printer`) when a job starts, and the material again every
10 minutes.

Both run for real, in this process, against `PrusaLinkSimulator`s on 127.0.0.1:
ours through `PrusaLinkBackend.async_poll()`, core's through `pyprusalink` as its
coordinators call it, each with one plain `httpx.AsyncClient` shared by all its
printers (as HA shares one) and HTTP Digest auth. Time is simulated: poll cycles
are run back to back and the simulators' clocks (`sim.advance`) and the backend's
material clock (`clock=`) are moved between them, so an hour takes seconds. Each
contender has its own simulators, set up as HA does (ours reads its identity and
polls once; core refreshes its five coordinators once) 30 s before the measured
window; `setup_requests` counts that, the Digest 401 challenge included.

Figures, one per line as `name: value unit (core: value unit, ratio ours/core)`:
- requests: everything the simulators logged in the window (401s included), per
  minute; for one printer, `printing` is one whole print of `--print-minutes`
  (default 60), our reads at the job start included; with more printers (staggered
  over 30 s, as set up at different moments) the window is `--fleet-minutes`
  (default 3) of prints already under way;
- state_change_latency_max: the longest gap between two `/api/v1/status` reads in
  the window, measured from the requests (the worst delay before a pause, error
  or finished print shows up; in `idle`, before a print start shows up);
- cpu: CPU time of the polling side only: `time.thread_time()` of the thread that
  runs the clients (the simulators run in another thread), per printer poll (ours:
  one `async_poll()`; core: its five requests) and per simulated minute, all
  printers together. CPU figures vary by some tens of percent between runs.

Run: `python -m benchmarks.poll [--printers 1 50] [--print-minutes 60]
[--fleet-minutes 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
import concurrent.futures
from dataclasses import dataclass, field
import heapq
import itertools
import sys
import threading
import time
from typing import Any, Literal

import httpx
from pyprusalink import PrusaLink

from custom_components.print_sentinel.const import (
    DEFAULT_IDLE_INTERVAL,
    DEFAULT_PRINTING_INTERVAL,
)
from custom_components.print_sentinel.coordinator import FAST_STATES
from custom_components.print_sentinel.printers.prusalink import PrusaLinkBackend
from simulators.prusalink import PrusaLinkSimulator

PASSWORD = "benchmark"
USERNAME = "maker"
CORE_INTERVAL = 30.0
"""HA core's update interval for each of its five coordinators."""
SETUP_LEAD = 30.0
MONOTONIC_BASE = 100_000.0
"""The backend's clock reads `time.monotonic()`, which is far from 0 in practice."""
"""Seconds between setting up the integration and the measured window."""
JOB_NAME = "Benchy_0.4n_0.2mm_PLA_MK4S_1h0m.bgcode"
"""PrusaSlicer's default output name: the material is in it, no file download."""

type Scenario = Literal["idle", "printing"]
type Contender = Literal["ours", "core"]
SCENARIOS: tuple[Scenario, ...] = ("printing", "idle")


class SimulatorThread:
    """An event loop in a thread of its own that runs the simulators."""

    def __init__(self) -> None:
        """Start the loop."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="simulators", daemon=True
        )
        self._thread.start()

    async def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the simulators' loop and wait for it."""
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            coro, self.loop
        )
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the loop and the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Measurement:
    """What one contender did over one scenario's window."""

    contender: Contender
    scenario: Scenario
    printers: int
    window: float
    """Simulated seconds measured, per printer."""
    job_seconds: float = 0.0
    """Length of the print (`printing`)."""
    setup_requests: int = 0
    """Requests of setting up one printer (its first one)."""
    requests: int = 0
    challenges: int = 0
    """Digest 401 answers in the window (part of `requests`)."""
    polls: int = 0
    """Printer polls (ours: `async_poll()`; core: its five requests)."""
    cpu: float = 0.0
    """Seconds of CPU of the polling thread in the window."""
    latency_max: float = 0.0
    """Longest gap between two status reads of one printer (window ends included)."""
    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_minute(self) -> float:
        """Requests per simulated minute, all printers together."""
        return self.requests / (self.window / 60)

    @property
    def cpu_per_poll_ms(self) -> float:
        """CPU milliseconds per printer poll."""
        return 1000 * self.cpu / max(self.polls, 1)

    @property
    def cpu_ms_per_minute(self) -> float:
        """CPU milliseconds per simulated minute, all printers together."""
        return 1000 * self.cpu / (self.window / 60)


class Printer:
    """One simulated printer and one contender's client for it.

    Each printer lives on its own clock (`now`, seconds since its window began):
    HA sets printers up at different moments, so their polls do not coincide.
    """

    def __init__(
        self, contender: Contender, sim: PrusaLinkSimulator, sims: SimulatorThread
    ) -> None:
        """Pair the simulator with a client; nothing is requested yet."""
        self.contender = contender
        self.sim = sim
        self.sims = sims
        self.now = -SETUP_LEAD
        self.status_times: list[float] = []
        self.api: PrusaLink | None = None
        self.backend: PrusaLinkBackend | None = None

    def connect(self, client: httpx.AsyncClient) -> None:
        """Build the contender's client side on the shared `client`."""
        if self.contender == "ours":
            self.backend = PrusaLinkBackend(
                client,
                self.sim.url,
                USERNAME,
                PASSWORD,
                clock=lambda: MONOTONIC_BASE + self.now,
            )
        else:
            self.api = PrusaLink(client, self.sim.url, USERNAME, PASSWORD)

    async def advance_to(self, moment: float) -> None:
        """Move this printer's clock (and its simulator's) on to `moment`."""
        seconds = moment - self.now
        if seconds > 0:

            async def move() -> None:
                self.sim.advance(seconds)

            await self.sims.run(move())
        self.now = moment

    async def setup(self) -> None:
        """Do what setting up the config entry does (core: one coordinator after
        the other, as its `async_setup_entry` awaits each first refresh).
        """
        if self.backend is not None:
            await self.backend.async_get_identity()
            await self.backend.async_poll()
            return
        for call in self._core_calls():
            await call()

    def _core_calls(self) -> list[Callable[[], Awaitable[object]]]:
        assert self.api is not None
        return [
            self.api.get_status,
            self.api.get_job,
            self.api.get_legacy_printer,
            self.api.get_info,
            self.api.get_version,
        ]

    async def poll(self) -> float:
        """Poll once; return the seconds until the next poll."""
        if self.backend is not None:
            snapshot = await self.backend.async_poll()
            if snapshot.state in FAST_STATES:
                return float(DEFAULT_PRINTING_INTERVAL)
            return float(DEFAULT_IDLE_INTERVAL)
        # five coordinators with the same interval: due together, run concurrently
        await asyncio.gather(*(call() for call in self._core_calls()))
        return CORE_INTERVAL


async def measure(
    contender: Contender,
    scenario: Scenario,
    printers: int,
    window: float,
    sims: SimulatorThread,
    *,
    job_seconds: float | None = None,
) -> Measurement:
    """Set up `printers` printers, then poll each over `window` simulated seconds.

    Printer `i` runs `i * 30 s / printers` behind the first (staggered set-ups).
    In `printing`, each printer starts a job of `job_seconds` (default: `window`)
    when its window begins.
    """
    job = job_seconds or window
    result = Measurement(contender, scenario, printers, window, job)
    fleet = [
        Printer(contender, PrusaLinkSimulator(password=PASSWORD), sims)
        for _ in range(printers)
    ]
    try:
        for printer in fleet:
            await sims.run(printer.sim.start("127.0.0.1", 0))
        async with httpx.AsyncClient() as client:
            whole_print = job <= window

            async def start_jobs() -> None:
                for printer in fleet:
                    printer.sim.start_job(JOB_NAME, material="PLA", duration=int(job))

            if scenario == "printing" and not whole_print:
                await sims.run(start_jobs())
            for printer in fleet:
                printer.connect(client)
                await printer.setup()
                await printer.advance_to(0.0)
            result.setup_requests = len(fleet[0].sim.requests)

            async def begin() -> None:
                if scenario == "printing" and whole_print:
                    await start_jobs()
                for printer in fleet:
                    printer.sim.reset_counters()

            await sims.run(begin())
            stagger = CORE_INTERVAL / printers
            due = [(index * stagger, index, 0.0) for index in range(printers)]
            heapq.heapify(due)
            while due:
                at = due[0][0]
                batch: list[tuple[int, float]] = []
                while due and due[0][0] == at:
                    _, index, local = heapq.heappop(due)
                    await fleet[index].advance_to(local)
                    batch.append((index, local))
                seen = [len(fleet[index].sim.requests) for index, _ in batch]
                started = time.thread_time()
                waits = await asyncio.gather(*(fleet[i].poll() for i, _ in batch))
                result.cpu += time.thread_time() - started
                result.polls += len(batch)
                for (index, local), wait, before in zip(
                    batch, waits, seen, strict=True
                ):
                    printer = fleet[index]
                    new = printer.sim.requests[before:]
                    if any(record.path == "/api/v1/status" for record in new):
                        printer.status_times.append(local)
                    if local + wait < window:
                        heapq.heappush(due, (at + wait, index, local + wait))
        for printer in fleet:
            for (_, path, status), count in printer.sim.counts().items():
                result.requests += count
                result.challenges += count if status == 401 else 0
                result.by_path[path] = result.by_path.get(path, 0) + count
            times = [0.0, *printer.status_times, window]
            gaps = (b - a for a, b in itertools.pairwise(times))
            result.latency_max = max(result.latency_max, *gaps)
    finally:
        for printer in fleet:
            await sims.run(printer.sim.stop())
    return result


@dataclass(frozen=True)
class Comparison:
    """Ours and core's measurements of one scenario."""

    ours: Measurement
    core: Measurement


async def run_all(
    printers: Sequence[int], print_seconds: float, fleet_seconds: float
) -> list[Comparison]:
    """Measure every printer count and scenario for both contenders."""
    sims = SimulatorThread()
    results = []
    try:
        for count in printers:
            window = print_seconds if count == 1 else min(fleet_seconds, print_seconds)
            for scenario in SCENARIOS:
                pair = [
                    await measure(
                        contender,
                        scenario,
                        count,
                        window,
                        sims,
                        job_seconds=print_seconds,
                    )
                    for contender in ("ours", "core")
                ]
                results.append(Comparison(*pair))
    finally:
        sims.close()
    return results


def _ratio(ours: float, theirs: float) -> str:
    return f"ratio {ours / theirs:.2f}" if theirs else "ratio n/a"


def _line(name: str, ours: float, theirs: float, unit: str, digits: int) -> str:
    return (
        f"{name}: {ours:.{digits}f} {unit} "
        f"(core: {theirs:.{digits}f} {unit}, {_ratio(ours, theirs)})"
    )


def format_report(results: Sequence[Comparison]) -> list[str]:
    """Return the figures, one `name: value unit (core: ..., ratio ...)` per line."""
    lines = [
        "# poll: PrusaLinkBackend (status every 6 s printing / 30 s idle, job and "
        "material on job start) vs. HA core (5 endpoints every 30 s); "
        "PrusaLinkSimulators on 127.0.0.1, simulated clock; ratio = ours / core",
    ]
    for comparison in results:
        ours, core = comparison.ours, comparison.core
        prefix = "poll" if ours.printers == 1 else f"poll.{ours.printers}_printers"
        name = f"{prefix}.{ours.scenario}"
        minutes = f"{ours.window / 60:g} simulated minutes"
        if ours.scenario == "printing":
            minutes += (
                " (one whole print)"
                if ours.job_seconds <= ours.window
                else " (mid-print)"
            )
        lines.append(
            f"# {name}: {ours.printers} printer{'s' if ours.printers > 1 else ''}, "
            f"{minutes}; ours {ours.requests} requests ({_paths(ours)}), "
            f"core {core.requests} ({_paths(core)})"
        )
        lines += [
            _line(
                f"{name}.requests_per_minute",
                ours.requests_per_minute,
                core.requests_per_minute,
                "req/min",
                2 if ours.printers == 1 else 1,
            ),
            _line(
                f"{name}.state_change_latency_max",
                ours.latency_max,
                core.latency_max,
                "s",
                0,
            ),
            _line(
                f"{name}.cpu_per_poll_ms",
                ours.cpu_per_poll_ms,
                core.cpu_per_poll_ms,
                "ms",
                2,
            ),
            _line(
                f"{name}.cpu_ms_per_minute",
                ours.cpu_ms_per_minute,
                core.cpu_ms_per_minute,
                "ms/min",
                1,
            ),
        ]
        if ours.printers == 1 and ours.scenario == "printing":
            lines += [
                _line(
                    f"{name}.requests_per_print", ours.requests, core.requests, "req", 0
                ),
                _line(
                    "poll.setup_requests",
                    ours.setup_requests,
                    core.setup_requests,
                    "req",
                    0,
                ),
            ]
    return lines


def _paths(measurement: Measurement) -> str:
    short = {
        "/api/v1/status": "status",
        "/api/v1/job": "job",
        "/api/printer": "printer",
        "/api/v1/info": "info",
        "/api/version": "version",
    }
    parts = [
        f"{short.get(path, path)} {count}"
        for path, count in sorted(measurement.by_path.items(), key=lambda i: -i[1])
    ]
    if measurement.challenges:
        parts.append(f"of which {measurement.challenges} Digest 401")
    return ", ".join(parts)


def run(
    *,
    printers: Sequence[int] = (1, 50),
    print_minutes: float = 60,
    fleet_minutes: float = 3,
) -> tuple[list[Comparison], list[str]]:
    """Measure and format; the fleet (more than one printer) runs `fleet_minutes`."""
    results = asyncio.run(run_all(printers, print_minutes * 60, fleet_minutes * 60))
    return results, format_report(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the polling figures, one per line."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--fleet" not in arguments:
        from . import poll_ha

        return poll_ha.main(arguments)
    arguments.remove("--fleet")
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--printers", type=int, nargs="+", default=[1, 50])
    parser.add_argument(
        "--print-minutes", type=float, default=60, help="one printer's window"
    )
    parser.add_argument(
        "--fleet-minutes", type=float, default=3, help="window with more printers"
    )
    args = parser.parse_args(arguments)
    _, lines = run(
        printers=args.printers,
        print_minutes=args.print_minutes,
        fleet_minutes=args.fleet_minutes,
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
