"""Repetier-Server push against polling: requests a minute, delay to a state change.

The same simulated scenario twice in a test Home Assistant
(`pytest_homeassistant_custom_component`'s, real HTTP and websocket over loopback,
set up as `benchmarks.poll` does), one `RepetierSimulator` each time:

- push: the simulator serves `/socket/`; Print Sentinel keeps the websocket and
  reads state from what it pushes (its HTTP polls fall back to a cache-only poll
  every 300 s);
- poll: `sim.websocket = False` (404, a server without push); Print Sentinel
  polls `listPrinter` + `stateList` over HTTP (10 s printing, 30 s idle) and keeps
  trying the socket with back-off.

Scenario: idle, a print start (seeded moment), a print with pauses and resumes
made at the printer (`SimPrinter.paused` and `push_changes`, as a change on the
server's own page), the job ending by itself, idle again. The clock is frozen and
moved on in steps (`--step`, 1 s by default; freezegun and
`async_fire_time_changed`, the simulator's clock with it); after each step the
loopback I/O that step started is let finish (no real-time sleeps stand in for
simulated time), so a delay is counted in steps of simulated time.

While a printer is connected, Repetier-Server pushes a `temp` event as its
temperatures come in; the simulator pushes only on a change, so the benchmark
pushes a `temp` event every `--temp-every` simulated seconds (1 by default; 0:
only the simulator's own events). Every event makes the socket resync over the
socket (`listPrinter` + `stateList`, at most once a second): those are its
commands a minute.

Figures: HTTP requests a minute by phase (idle: no job; printing: a job, paused
or not), push and poll, ratio push / poll (the poll side counts its refused
socket attempts, `/socket/`, too); the websocket's commands a minute (push; the
anchor is poll's HTTP requests); the delay from a change at the printer to the
changed state in HA (median, max; simulated seconds), ratio push / poll; the
number of changes measured.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import random
import statistics
import sys
import tempfile
import time
from typing import Any
from unittest.mock import MagicMock, patch

from . import readme

MODES = ("push", "poll")
SLUG = "prusa_i3"
API_KEY = "bench-push-Secret-key-3344"
SERVER_UUID = "4f0b2c1e-0000-4000-8000-0000000be7c4"
PREFIX = "repetier_push"
ACTIVE = frozenset({"printing", "paused"})
SETTLE_SECONDS = 2.0
RESULTS = Path(__file__).resolve().parent / "results" / "repetier_push.json"
TABLE = readme.Table("push", "scripts/bench repetier_push --write-readme")
"""Real seconds the loopback I/O of one step may take before the step moves on."""


@dataclass(frozen=True)
class Change:
    """A change at the printer, at a simulated second after the start."""

    at: int
    action: str
    """`start`, `pause` or `resume` (the end comes by itself)."""


@dataclass
class Result:
    """What one mode did over the scenario."""

    http: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(phase, path or action) -> HTTP requests."""
    socket: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(phase, action) -> commands over the websocket."""
    seconds: Counter[str] = field(default_factory=Counter)
    """Simulated seconds in each phase."""
    delays: dict[str, list[float]] = field(default_factory=dict)
    """Change kind -> seconds from the change to HA's changed state."""
    missed: int = 0
    socket_connects: int = 0
    socket_attempts: int = 0
    """Websocket upgrade requests (accepted or refused)."""
    slow_steps: int = 0
    """Steps whose loopback I/O had not finished after `SETTLE_SECONDS`."""

    def minutes(self, phase: str) -> float:
        """Simulated minutes in `phase`."""
        return max(self.seconds[phase] / 60, 1e-9)

    def http_per_minute(self, phase: str) -> float:
        """HTTP requests a simulated minute in `phase`."""
        count = sum(n for (p, _), n in self.http.items() if p == phase)
        return count / self.minutes(phase)

    def socket_per_minute(self, phase: str) -> float:
        """Websocket commands a simulated minute in `phase`."""
        count = sum(n for (p, _), n in self.socket.items() if p == phase)
        return count / self.minutes(phase)

    def by_what(self, counts: Counter[tuple[str, str]], phase: str) -> str:
        """`what rate, ...` a minute in `phase`."""
        out: Counter[str] = Counter()
        for (p, what), n in counts.items():
            if p == phase:
                out[what] += n
        return ", ".join(
            f"{what} {n / self.minutes(phase):.2f}" for what, n in out.most_common()
        )

    def add(self, other: Result) -> None:
        """Count `other`'s run in too (another seed)."""
        self.http.update(other.http)
        self.socket.update(other.socket)
        self.seconds.update(other.seconds)
        for kind, values in other.delays.items():
            self.delays.setdefault(kind, []).extend(values)
        self.missed += other.missed
        self.socket_connects += other.socket_connects
        self.socket_attempts += other.socket_attempts
        self.slow_steps += other.slow_steps

    @property
    def all_delays(self) -> list[float]:
        """Every measured delay."""
        return [d for kind in self.delays.values() for d in kind]


def scenario(
    seed: int, idle_minutes: float, print_minutes: float, pauses: int
) -> tuple[list[Change], int]:
    """The changes at the printer and the printed seconds of the job."""
    rng = random.Random(seed)
    start = int(idle_minutes * 60) + rng.randrange(30)
    printed = int(print_minutes * 60)
    changes = [Change(start, "start")]
    slot = printed // (pauses + 1)
    held = 0
    for index in range(1, pauses + 1):
        # paused after this much printing: near the end of its slot
        at = start + held + slot * index - rng.randrange(slot // 4 + 1)
        hold = rng.randrange(40, 121)
        changes += [Change(at, "pause"), Change(at + hold, "resume")]
        held += hold
    return changes, printed


async def _settle(hass: Any, sim: Any, backend: Any, result: Result) -> None:
    """Let the loopback I/O the step started finish (HTTP, socket, refreshes)."""
    deadline = time.perf_counter() + SETTLE_SECONDS
    quiet = 0
    while quiet < 2:
        await hass.async_block_till_done(wait_background_tasks=True)
        for _ in range(4):
            await asyncio.sleep(0)
        socket = getattr(backend, "_socket", None)
        busy = bool(sim._background) or bool(
            socket is not None and socket._pending  # an answer on its way
        )
        if not busy:
            quiet += 1
            continue
        quiet = 0
        if time.perf_counter() > deadline:
            result.slow_steps += 1
            return
        time.sleep(0.0002)  # noqa: ASYNC251  the loop's timers wait on the frozen clock


async def run_mode(
    mode: str,
    seed: int,
    idle_minutes: float,
    print_minutes: float,
    tail_minutes: float,
    pauses: int,
    step: int,
    temp_every: int,
) -> Result:
    """Run the scenario once with the socket on (`push`) or off (`poll`)."""
    from aiohttp.resolver import AsyncResolver
    import freezegun
    from homeassistant import loader
    from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT
    from homeassistant.core import Event as HaEvent
    from homeassistant.helpers import entity_registry as er
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_fire_time_changed,
        async_test_home_assistant,
    )

    import custom_components.print_sentinel  # noqa: F401
    from custom_components.print_sentinel.const import (
        CONF_PRINTER_SLUG,
        CONF_PRINTER_TYPE,
        PRINTER_TYPE_REPETIER,
    )
    from simulators.repetier import RepetierSimulator

    changes, printed = scenario(seed, idle_minutes, print_minutes, pauses)
    result = Result(delays={kind: [] for kind in ("start", "pause", "resume", "end")})
    start_time = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    # HA's shared session asks zeroconf's resolver, which needs the network
    # integration: a plain resolver, as phcc's `mock_zeroconf_resolver` fixture
    resolver = AsyncResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]
    with (
        freezegun.freeze_time(start_time) as frozen,
        tempfile.TemporaryDirectory() as config_dir,
        patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver",
            return_value=resolver,
        ),
    ):
        sim = RepetierSimulator(
            api_key=API_KEY, printers=[(SLUG, "Prusa i3")], server_uuid=SERVER_UUID
        )
        sim.websocket = mode == "push"
        handle_socket = sim._handle_socket
        phase = "setup"

        async def counted_socket(request: Any) -> Any:
            # an upgrade request: an HTTP request the simulator does not record
            result.socket_attempts += 1
            if phase != "setup" and not sim.websocket:
                result.http[(phase, "/socket/ (refused)")] += 1
            return await handle_socket(request)

        sim._handle_socket = counted_socket  # type: ignore[method-assign]
        await sim.start("127.0.0.1", 0)
        printer = sim.printer(SLUG)
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.config.components.add("http")  # no web server needed here
            hass.http = MagicMock()  # views register on nothing
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # find print_sentinel
            entry = MockConfigEntry(
                domain="print_sentinel",
                title="Prusa i3",
                unique_id=f"{SERVER_UUID}_{SLUG}",
                data={
                    CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
                    CONF_HOST: "127.0.0.1",
                    CONF_PORT: sim.port,
                    CONF_API_KEY: API_KEY,
                    CONF_PRINTER_SLUG: SLUG,
                },
            )
            entry.add_to_hass(hass)
            assert await async_setup_component(hass, "print_sentinel", {})
            await hass.async_block_till_done()
            backend = entry.runtime_data.backend
            # the socket connects (push) or is refused once (poll) before counting
            for _ in range(50):
                frozen.tick(0.1)
                async_fire_time_changed(hass)
                await _settle(hass, sim, backend, result)
                if mode == "poll" or backend.pushing:
                    break
            if mode == "push" and not backend.pushing:
                raise RuntimeError("the push socket did not come up")
            state_entity = next(
                item.entity_id
                for item in er.async_entries_for_config_entry(
                    er.async_get(hass), entry.entry_id
                )
                if item.entity_id.endswith("_printer_state")
            )
            now = 0
            pending: list[tuple[int, str, frozenset[str]]] = []

            def on_change(event: HaEvent[Any]) -> None:
                new = event.data.get("new_state")
                if event.data["entity_id"] != state_entity or new is None:
                    return
                while pending and new.state in pending[0][2]:
                    at, kind, _ = pending.pop(0)
                    result.delays[kind].append(now - at)

            hass.bus.async_listen("state_changed", on_change)
            sim.requests.clear()
            sim.socket_requests.clear()
            result.socket_attempts = 0
            phase = "idle"
            connects = sim.socket_connects
            expect = {
                "start": frozenset({"printing"}),
                "pause": frozenset({"paused"}),
                "resume": frozenset({"printing"}),
            }
            queue = list(changes)
            ended_at: int | None = None
            while ended_at is None or now < ended_at + tail_minutes * 60:
                now += step
                frozen.tick(step)
                had_job = printer.job is not None
                sim.advance(step)
                if had_job and printer.job is None:
                    ended_at = now
                    pending.append((now, "end", frozenset({"finished", "idle"})))
                while queue and queue[0].at <= now:
                    change = queue.pop(0)
                    if change.action == "start":
                        sim.start_job(SLUG, "benchy.gcode", duration=printed)
                    else:
                        printer.paused = change.action == "pause"
                        sim.push_changes("state", SLUG)
                    pending.append((now, change.action, expect[change.action]))
                if temp_every and now % temp_every < step:
                    sim.push_event("temp", SLUG)  # no-op without a socket
                phase = "printing" if had_job or printer.job is not None else "idle"
                http_mark, socket_mark = len(sim.requests), len(sim.socket_requests)
                async_fire_time_changed(hass)
                await _settle(hass, sim, backend, result)
                for record in sim.requests[http_mark:]:
                    result.http[(phase, record.action or record.path)] += 1
                for action in sim.socket_requests[socket_mark:]:
                    result.socket[(phase, action)] += 1
                result.seconds[phase] += step
            result.missed = len(pending) + len(queue)
            result.socket_connects = sim.socket_connects - connects
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
        await sim.stop()
    return result


def _ratio(a: float, b: float) -> str:
    return f"ratio {a / b:.2f}" if b else "ratio n/a"


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def figures(results: dict[str, Result]) -> dict[str, list[float]]:
    """name -> [push, poll]."""
    push, poll = results["push"], results["poll"]
    out: dict[str, list[float]] = {}
    for phase in ("idle", "printing"):
        out[f"{phase}_http_per_minute"] = [
            round(push.http_per_minute(phase), 2),
            round(poll.http_per_minute(phase), 2),
        ]
        out[f"{phase}_socket_per_minute"] = [
            round(push.socket_per_minute(phase), 2),
            round(poll.socket_per_minute(phase), 2),
        ]
    out["state_delay_median_s"] = [_median(push.all_delays), _median(poll.all_delays)]
    out["state_delay_max_s"] = [
        max(push.all_delays, default=float("nan")),
        max(poll.all_delays, default=float("nan")),
    ]
    out["changes_seen"] = [len(push.all_delays), len(poll.all_delays)]
    out["changes_missed"] = [push.missed, poll.missed]
    return out


def format_report(results: dict[str, Result], args: argparse.Namespace) -> list[str]:
    """Lines `name: value unit (poll: value unit, ratio R)`."""
    from custom_components.print_sentinel.printers import repetier_socket

    push, poll = results["push"], results["poll"]
    lines = [
        f"# {PREFIX}: Print Sentinel on one simulated Repetier-Server printer, the "
        f"socket on (push) and off (poll); {push.minutes('idle'):.0f} min idle, "
        f"{push.minutes('printing'):.0f} min with a job ({args.print_minutes:g} min "
        f"printing, {args.pauses} pauses each), seeds {args.seed}-"
        f"{args.seed + args.seeds - 1} added up, {args.step} s steps (delays in "
        f"whole steps, 0 = seen within the step), "
        + (
            f"a temp event pushed every {args.temp_every} s"
            if args.temp_every
            else "events only on a change"
        )
        + "; ratio = push / poll"
    ]

    def line(name: str, a: float, b: float, unit: str, anchor: str = "poll") -> str:
        return (
            f"{PREFIX}.{name}: {a:.2f} {unit} "
            f"({anchor}: {b:.2f} {unit if anchor == 'poll' else 'req/min'}, "
            f"{_ratio(a, b)})"
        )

    for phase in ("idle", "printing"):
        lines.append(
            line(
                f"{phase}.http_requests_per_minute",
                push.http_per_minute(phase),
                poll.http_per_minute(phase),
                "req/min",
            )
        )
        lines.append(
            line(
                f"{phase}.socket_commands_per_minute",
                push.socket_per_minute(phase),
                poll.http_per_minute(phase),
                "cmd/min",
                anchor="poll http",
            )
        )
        for mode in MODES:
            result = results[mode]
            lines.append(
                f"# {PREFIX}.{phase} {mode}: http {result.by_what(result.http, phase) or '-'}"
                f"; socket {result.by_what(result.socket, phase) or '-'}"
            )
    for name, pick in (("median", _median), ("max", max)):
        lines.append(
            f"{PREFIX}.state_delay_{name}: {pick(push.all_delays):.1f} s "
            f"(poll: {pick(poll.all_delays):.1f} s, "
            f"{_ratio(pick(push.all_delays), pick(poll.all_delays))})"
        )
    for mode in MODES:
        result = results[mode]
        kinds = "; ".join(
            f"{kind} {', '.join(f'{d:g}' for d in values) or '-'}"
            for kind, values in result.delays.items()
        )
        lines.append(f"# {PREFIX}.delays {mode} (s): {kinds}")
    lines.append(
        f"{PREFIX}.changes_measured: {len(push.all_delays)} changes "
        f"(poll: {len(poll.all_delays)} changes)"
    )
    lines.append(
        f"# {PREFIX}: changes never seen push {push.missed}, poll {poll.missed}; "
        f"socket reconnects push {push.socket_connects}, poll {poll.socket_connects}; "
        f"socket attempts poll {poll.socket_attempts} (refused, counted as HTTP "
        f"requests above); steps not settled push {push.slow_steps}, "
        f"poll {poll.slow_steps}; the push socket also sends a websocket ping every "
        f"{repetier_socket.HEARTBEAT} s (not counted)"
    )
    return lines


async def run_async(args: argparse.Namespace) -> dict[str, Result]:
    """Both modes for each seed, one after the other; the seeds added up."""
    results = {mode: Result() for mode in MODES}
    for seed in range(args.seed, args.seed + args.seeds):
        for mode in MODES:
            results[mode].add(
                await run_mode(
                    mode,
                    seed,
                    args.idle_minutes,
                    args.print_minutes,
                    args.tail_minutes,
                    args.pauses,
                    args.step,
                    args.temp_every,
                )
            )
    return results


SCENARIO_ARGS = ("idle_minutes", "print_minutes", "tail_minutes", "pauses")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--idle-minutes", type=float, default=10.0)
    parser.add_argument(
        "--print-minutes",
        "--minutes",
        type=float,
        default=20.0,
        help="minutes the job prints (pauses come on top)",
    )
    parser.add_argument("--tail-minutes", type=float, default=3.0)
    parser.add_argument("--pauses", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument(
        "--seeds", type=int, default=5, help="runs (seeds) added up, each both modes"
    )
    parser.add_argument("--step", type=int, default=1, help="simulated seconds")
    parser.add_argument(
        "--temp-every",
        type=int,
        default=1,
        help="push a temp event every N simulated seconds (0: only on a change)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the figures as JSON (tests)"
    )
    parser.add_argument(
        "--write-readme",
        "--readme",
        dest="readme",
        action="store_true",
        help="full run only: store benchmarks/results/repetier_push.json and "
        "write README.md's push table",
    )
    return parser.parse_args(argv)


def store_results(
    figs: dict[str, list[float]], args: argparse.Namespace
) -> dict[str, Any]:
    """Write the full run's figures to `RESULTS`; return what was written."""
    data: dict[str, Any] = {
        "scenario": {
            name: getattr(args, name)
            for name in (*SCENARIO_ARGS, "seed", "seeds", "step", "temp_every")
        },
        "figures": figs,
    }
    return readme.store_json(RESULTS, data)


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    """The stored full run."""
    return readme.load_json(path)


def _x(push: float, poll: float) -> str:
    return f"{push / poll:.2f}x" if poll else "-"


def _n(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}"


def readme_table(data: dict[str, Any]) -> list[str]:
    """README's table from a stored run: per simulated minute, and counts."""
    f = data["figures"]
    lines = [
        "| Repetier-Server, one simulated printer | Push (websocket) | Polling "
        "| Push / polling |",
        "|---|---|---|---|",
    ]
    for phase, label in (("idle", "idle"), ("printing", "with a job")):
        push, poll = f[f"{phase}_http_per_minute"]
        lines.append(
            f"| HTTP requests a minute, {label} | {push:.2f} | {poll:.2f} "
            f"| {_x(push, poll)} |"
        )
    for phase, label in (("idle", "idle"), ("printing", "with a job")):
        push, poll = f[f"{phase}_socket_per_minute"]
        lines.append(
            f"| Requests over the websocket a minute, {label} | {push:.2f} "
            f"| {poll:.2f} | - |"
        )
    for name, label in (("median", "median"), ("max", "slowest")):
        push, poll = f[f"state_delay_{name}_s"]
        lines.append(
            f"| State change seen in HA, {label} (simulated s; 0: within the second) "
            f"| {_n(push)} | {_n(poll)} | - |"
        )
    (push_seen, poll_seen), (push_missed, poll_missed) = (
        f["changes_seen"],
        f["changes_missed"],
    )
    lines.append(
        f"| Changes measured (never seen) | {push_seen} ({push_missed}) "
        f"| {poll_seen} ({poll_missed}) | - |"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; --write-readme also stores them and writes the table."""
    args = parse_args(argv)
    if args.readme and vars(args) != {
        **vars(parse_args([])),
        "readme": True,
    }:
        raise SystemExit("--write-readme takes the full run (no other arguments)")
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    results = asyncio.run(run_async(args))
    if args.json:
        sys.stdout.write(json.dumps(figures(results)) + "\n")
        return 0
    lines = format_report(results, args)
    lines.append(f"# {PREFIX}: took {time.perf_counter() - started:.0f} s")
    sys.stdout.write("\n".join(lines) + "\n")
    if args.readme:
        TABLE.write(readme_table(store_results(figures(results), args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
