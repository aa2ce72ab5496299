"""Print Sentinel beside HA core's real `prusalink` integration, in one test HA.

One `PrusaLinkSimulator` (either firmware family, `--flavour`) serves the same
printer on two ports: HA core's `prusalink` integration (installed with Home
Assistant, its five coordinators) is set up on one, Print Sentinel on the other,
in one Home Assistant (`pytest_homeassistant_custom_component`'s test instance,
real HTTP over loopback). The clock is frozen and moved on one second at a time
(`freezegun` and `async_fire_time_changed`, as HA's own tests move it), the
simulator's clock with it, through one simulated print day:

idle, a print start, a long print with pauses and resumes from the printer's own
screen (seeded random moments), the end, idle again, a second print that ends in
an error, idle.

For each integration it reports requests a minute by state (idle, printing) and by
endpoint, 401 challenges counted; the delay from each change at the printer to
the changed state in HA (median, p95); and CPU time per simulated hour: the CPU of
the callbacks that ran in each integration's coordinator tasks (attributed
through a context variable set when a coordinator refreshes), so HA's own
work and the simulator's do not count. Only ratios and counts are meant for
README.md.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
import contextlib
import contextvars
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging
from pathlib import Path
import random
import statistics
import sys
import tempfile
import time
from typing import Any
from unittest.mock import MagicMock

from . import readme

PASSWORD = "benchmark-Secret-pw"
USERNAME = "maker"
CONTENDERS = ("print_sentinel", "prusalink")
LABEL = {"print_sentinel": "Print Sentinel", "prusalink": "core prusalink"}
STATE_OPTIONS = {"idle", "printing", "paused", "finished", "stopped", "error"}

_CONTENDER: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "poll_contender", default=None
)


@dataclass
class Result:
    """What one integration did over the day."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    """(phase, path, status) -> count."""
    seconds: Counter[str] = field(default_factory=Counter)
    """Simulated seconds spent in each phase."""
    delays: list[float] = field(default_factory=list)
    """Seconds from a change at the printer to HA's state (printing phase)."""
    start_delays: list[float] = field(default_factory=list)
    """Seconds from a print start (while idle) to HA showing printing."""
    missed: int = 0
    cpu: float = 0.0

    def per_minute(self, phase: str) -> float:
        """Requests a simulated minute in `phase`."""
        count = sum(n for (p, _, _), n in self.requests.items() if p == phase)
        return count / max(self.seconds[phase] / 60, 1e-9)

    def challenges(self, phase: str) -> int:
        """401 answers in `phase`."""
        return sum(
            n for (p, _, s), n in self.requests.items() if p == phase and s == 401
        )

    def by_path(self, phase: str) -> dict[str, float]:
        """Requests a minute by endpoint in `phase`."""
        out: Counter[str] = Counter()
        for (p, path, _), n in self.requests.items():
            if p == phase:
                out[path] += n
        minutes = max(self.seconds[phase] / 60, 1e-9)
        return {path: n / minutes for path, n in out.most_common()}


@dataclass(frozen=True)
class Event:
    """A change at the printer, at a simulated second of the day."""

    at: int
    action: str
    expect: str
    """The state HA should then show."""


def print_day(seed: int, hours: float) -> tuple[list[Event], int]:
    """The simulated day's events and its length in seconds."""
    rng = random.Random(seed)
    idle = 20 * 60
    long_print = int(hours * 3600)
    start = idle + rng.randrange(60)
    events = [Event(start, "start_long", "printing")]
    pauses = 6 if hours >= 1 else 2
    slot = (long_print - 1200) // pauses
    wall, paused = start + 300, 0
    for _ in range(pauses):
        at = wall + rng.randrange(60, slot)
        hold = rng.randrange(60, 240)
        events.append(Event(at, "pause", "paused"))
        events.append(Event(at + hold, "resume", "printing"))
        wall, paused = at + hold, paused + hold
    end = start + long_print + paused
    events.append(Event(end, "(ends by itself)", "finished"))
    second = end + 300 + 20 * 60 + rng.randrange(60)
    events.append(Event(second, "start_short", "printing"))
    events.append(Event(second + 900 + rng.randrange(60), "error", "error"))
    return events, second + 900 + 20 * 60


@contextlib.contextmanager
def cpu_by_contender(cpu: dict[str, float]) -> Iterator[None]:
    """Attribute the CPU of each event loop callback to the contender it serves."""
    handle_run = asyncio.Handle._run

    def run(self: asyncio.Handle) -> None:
        started = time.thread_time()
        handle_run(self)
        who = self.get_context().get(_CONTENDER)
        if who is not None:
            cpu[who] = cpu.get(who, 0.0) + time.thread_time() - started

    asyncio.Handle._run = run  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncio.Handle._run = handle_run  # type: ignore[method-assign]


async def run_day(
    flavour: str, seed: int, hours: float, *, api_key: bool = False
) -> dict[str, Result]:
    """Run the simulated day once; return each contender's result.

    `api_key`: Print Sentinel's entry has the printer's `X-Api-Key` (MK3S), so
    it needs no Digest; core's integration has no such option.
    """
    import freezegun
    from homeassistant import loader
    from homeassistant.const import (
        CONF_API_KEY,
        CONF_HOST,
        CONF_PASSWORD,
        CONF_USERNAME,
    )
    from homeassistant.core import Event as HaEvent
    from homeassistant.helpers import entity_registry as er
    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_fire_time_changed,
        async_test_home_assistant,
    )

    import custom_components.print_sentinel  # noqa: F401
    from custom_components.print_sentinel.const import (
        CONF_PRINTER_TYPE,
        PRINTER_TYPE_PRUSALINK,
    )
    from simulators.prusalink import PrusaLinkSimulator

    events, length = print_day(seed, hours)
    results = {name: Result() for name in CONTENDERS}
    cpu: dict[str, float] = {}
    refresh = DataUpdateCoordinator._async_refresh

    async def tagged_refresh(self: Any, *args: Any, **kwargs: Any) -> None:
        entry = self.config_entry
        if entry is not None and entry.domain in CONTENDERS:
            _CONTENDER.set(entry.domain)
        await refresh(self, *args, **kwargs)

    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    with (
        freezegun.freeze_time(start) as frozen,
        tempfile.TemporaryDirectory() as config_dir,
    ):
        sim = PrusaLinkSimulator(
            PASSWORD,
            flavour=flavour,
            serial="CZPX4720X004XC00001"
            if flavour == "mk3s"
            else "10589-3742441634500001",
        )
        await sim.start()
        core_url = await sim.add_listener()
        ports = {
            "print_sentinel": sim.host_port[1],
            "prusalink": int(core_url.rsplit(":", 1)[1]),
        }
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.config.components.add("http")  # no web server needed here
            hass.http = MagicMock()  # views register on nothing
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # find print_sentinel
            DataUpdateCoordinator._async_refresh = tagged_refresh  # type: ignore[method-assign]
            try:
                ours = MockConfigEntry(
                    domain="print_sentinel",
                    title="bench",
                    unique_id=sim.serial,
                    data={
                        CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
                        CONF_HOST: sim.url,
                        CONF_USERNAME: USERNAME,
                        CONF_PASSWORD: PASSWORD,
                    }
                    | ({CONF_API_KEY: sim.api_key} if api_key and sim.api_key else {}),
                )
                core = MockConfigEntry(
                    domain="prusalink",
                    title="bench",
                    version=1,
                    minor_version=2,
                    data={
                        CONF_HOST: core_url,
                        CONF_USERNAME: USERNAME,
                        CONF_PASSWORD: PASSWORD,
                    },
                )
                for entry in (ours, core):
                    entry.add_to_hass(hass)
                sim.advance(10)  # past the MK3S's start-up
                frozen.tick(10)
                assert await async_setup_component(hass, "prusalink", {})
                assert await async_setup_component(hass, "print_sentinel", {})
                await hass.async_block_till_done()
                registry = er.async_get(hass)
                state_entity: dict[str, str] = {}
                for name, entry in (("print_sentinel", ours), ("prusalink", core)):
                    for item in er.async_entries_for_config_entry(
                        registry, entry.entry_id
                    ):
                        state = hass.states.get(item.entity_id)
                        options = set(
                            (state.attributes.get("options") or []) if state else []
                        )
                        if item.domain == "sensor" and options >= STATE_OPTIONS:
                            state_entity[name] = item.entity_id
                if set(state_entity) != set(CONTENDERS):
                    raise RuntimeError(f"state sensors not found: {state_entity}")
                owner = {entity: name for name, entity in state_entity.items()}
                now = 0
                pending: dict[str, list[tuple[int, str, bool]]] = {
                    name: [] for name in CONTENDERS
                }

                def on_change(event: HaEvent[Any]) -> None:
                    name = owner.get(event.data["entity_id"])
                    new = event.data.get("new_state")
                    if name is None or new is None:
                        return
                    waiting = pending[name]
                    while waiting and waiting[0][1] == new.state:
                        at, _, from_idle = waiting.pop(0)
                        target = (
                            results[name].start_delays
                            if from_idle
                            else results[name].delays
                        )
                        target.append(now - at)

                hass.bus.async_listen("state_changed", on_change)
                sim.reset_counters()
                cpu.clear()
                actions: dict[str, Callable[[], object]] = {
                    "start_long": lambda: sim.start_job(
                        "Benchy_0.4n_0.2mm_PLA_MK3S_long.gcode",
                        "PLA",
                        int(hours * 3600),
                    ),
                    "start_short": lambda: sim.start_job(
                        "Clip_0.4n_0.2mm_PETG_MK3S_1h.gcode", "PETG", 3600
                    ),
                    "pause": sim.pause,
                    "resume": sim.resume,
                    "error": lambda: sim.set_state("ERROR"),
                }
                queue = list(events)
                phase_of: list[str] = []
                with cpu_by_contender(cpu):
                    for now in range(1, length + 1):
                        sim.advance(1)
                        was_idle = sim.job is None or sim.state in {"IDLE", "ERROR"}
                        while queue and queue[0].at <= now:
                            event = queue.pop(0)
                            if event.action in actions:
                                actions[event.action]()
                            for name in CONTENDERS:
                                pending[name].append(
                                    (
                                        now,
                                        event.expect,
                                        event.action.startswith("start"),
                                    )
                                )
                        phase = (
                            "printing"
                            if sim.job is not None and not was_idle
                            else "idle"
                        )
                        if sim.state in {"PRINTING", "PAUSED"}:
                            phase = "printing"
                        phase_of.append(phase)
                        frozen.tick(1)
                        mark = len(sim.requests)
                        async_fire_time_changed(hass)
                        await hass.async_block_till_done(wait_background_tasks=True)
                        for record in sim.requests[mark:]:
                            for name, port in ports.items():
                                if record.port == port:
                                    results[name].requests[
                                        (phase, record.path, record.status)
                                    ] += 1
                        for name in CONTENDERS:
                            results[name].seconds[phase] += 1
                for name in CONTENDERS:
                    results[name].cpu = cpu.get(name, 0.0)
                    results[name].missed = len(pending[name])
                await hass.config_entries.async_unload(ours.entry_id)
                await hass.config_entries.async_unload(core.entry_id)
            finally:
                DataUpdateCoordinator._async_refresh = refresh  # type: ignore[method-assign]
        await sim.stop()
    return results


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _ratio(ours: float, theirs: float) -> str:
    return f"ratio {ours / theirs:.2f}" if theirs else "ratio n/a"


def format_report(flavour: str, results: dict[str, Result], hours: float) -> list[str]:
    """Lines `name: value unit (core: value unit, ratio R)`."""
    ours, core = results["print_sentinel"], results["prusalink"]
    prefix = f"poll.{flavour}"
    lines = [
        f"# {prefix}: Print Sentinel and HA core's prusalink in one test HA, one "
        f"PrusaLinkSimulator ({flavour}), a simulated day "
        f"({sum(ours.seconds.values()) / 3600:.1f} h, a {hours:g} h print with "
        "pauses, an end, a print that errors); ratio = Print Sentinel / core"
    ]

    def line(name: str, a: float, b: float, unit: str, digits: int = 2) -> str:
        return (
            f"{prefix}.{name}: {a:.{digits}f} {unit} "
            f"(core: {b:.{digits}f} {unit}, {_ratio(a, b)})"
        )

    for phase in ("printing", "idle"):
        lines.append(
            line(
                f"{phase}.requests_per_minute",
                ours.per_minute(phase),
                core.per_minute(phase),
                "req/min",
            )
        )
        for who, result in (("ours", ours), ("core", core)):
            paths = ", ".join(
                f"{path} {rate:.2f}" for path, rate in result.by_path(phase).items()
            )
            lines.append(
                f"# {prefix}.{phase} {who}: {paths}; "
                f"{result.challenges(phase)} Digest 401 in "
                f"{result.seconds[phase] / 60:.0f} min"
            )
    lines += [
        line(
            "printing.state_delay_median",
            statistics.median(ours.delays),
            statistics.median(core.delays),
            "s",
            1,
        ),
        line(
            "printing.state_delay_p95",
            _pct(ours.delays, 0.95),
            _pct(core.delays, 0.95),
            "s",
            1,
        ),
        line(
            "idle.print_start_delay_max",
            max(ours.start_delays, default=float("nan")),
            max(core.start_delays, default=float("nan")),
            "s",
            0,
        ),
    ]
    hours_run = sum(ours.seconds.values()) / 3600
    lines.append(
        line(
            "cpu_ms_per_simulated_hour",
            1000 * ours.cpu / hours_run,
            1000 * core.cpu / hours_run,
            "ms/h",
            0,
        )
    )
    lines.append(
        f"# {prefix}: {len(ours.delays)} changes while printing, "
        f"{len(ours.start_delays)} print starts; changes never seen: "
        f"ours {ours.missed}, core {core.missed}"
    )
    return lines


def run(
    flavours: Sequence[str] = ("mk3s", "mk3s-key", "mk4s"),
    seed: int = 12,
    hours: float = 2.0,
) -> tuple[dict[str, dict[str, Result]], list[str]]:
    """Run the day for each flavour; return the results and the report lines."""
    logging.disable(logging.WARNING)
    return asyncio.run(run_async(flavours, seed, hours))


async def run_async(
    flavours: Sequence[str], seed: int, hours: float
) -> tuple[dict[str, dict[str, Result]], list[str]]:
    """`run` on a running loop (tests)."""
    all_results: dict[str, dict[str, Result]] = {}
    lines: list[str] = []
    for flavour in flavours:
        base, _, extra = flavour.partition("-")
        results = await run_day(base, seed, hours, api_key=extra == "key")
        all_results[flavour] = results
        lines += format_report(flavour.replace("-", "_"), results, hours)
    return all_results, lines


RESULTS = Path(__file__).resolve().parent / "results" / "poll.json"
TABLE = readme.Table("poll", "scripts/bench poll --write-readme")
FLAVOUR_LABEL = {
    "mk3s": "MK3S (Raspberry Pi PrusaLink), Digest",
    "mk3s-key": "MK3S (Raspberry Pi PrusaLink), API key",
    "mk4s": "MK4S (xBuddy firmware)",
}


def figures(results: dict[str, Result]) -> dict[str, list[float]]:
    """The README's figures for one flavour: name -> [Print Sentinel, core]."""
    ours, core = results["print_sentinel"], results["prusalink"]
    hours = sum(ours.seconds.values()) / 3600
    out: dict[str, list[float]] = {}
    for phase in ("printing", "idle"):
        out[f"{phase}_requests_per_minute"] = [
            round(ours.per_minute(phase), 2),
            round(core.per_minute(phase), 2),
        ]
        out[f"{phase}_challenges_401"] = [
            ours.challenges(phase),
            core.challenges(phase),
        ]
    out["state_delay_median_s"] = [
        statistics.median(ours.delays),
        statistics.median(core.delays),
    ]
    out["state_delay_p95_s"] = [_pct(ours.delays, 0.95), _pct(core.delays, 0.95)]
    out["changes_seen"] = [len(ours.delays), len(core.delays)]
    out["cpu_ms_per_hour"] = [
        round(1000 * ours.cpu / hours, 1),
        round(1000 * core.cpu / hours, 1),
    ]
    return out


MEASURED_CPU = ("cpu_ms_per_hour",)
"""Figures that depend on the machine (a rerun is not compared on them)."""


def store_results(
    all_results: dict[str, dict[str, Result]], seed: int, hours: float
) -> dict[str, object]:
    """Write the run's figures to `RESULTS`; return what was written."""
    data: dict[str, object] = {
        "seed": seed,
        "print_hours": hours,
        "figures": {name: figures(r) for name, r in all_results.items()},
    }
    return readme.store_json(RESULTS, data)


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    """The stored run."""
    return readme.load_json(path)


def _r(ours: float, core: float) -> str:
    return f"{ours / core:.2f}" if core else "n/a"


def readme_table(data: dict[str, Any]) -> list[str]:
    """The README's table from a stored run (ratios and counts only)."""
    lines = [
        "| Printer (simulator flavour) | Requests a minute printing | idle "
        "| Digest 401s printing (ours / core) | State change seen, median | p95 "
        "| CPU per hour |",
        "|---|---|---|---|---|---|---|",
    ]
    for flavour, f in data["figures"].items():
        ours401, core401 = f["printing_challenges_401"]
        lines.append(
            f"| {FLAVOUR_LABEL.get(flavour, flavour)} "
            f"| {_r(*f['printing_requests_per_minute'])}x "
            f"| {_r(*f['idle_requests_per_minute'])}x "
            f"| {ours401} / {core401} "
            f"| {_r(*f['state_delay_median_s'])}x "
            f"| {_r(*f['state_delay_p95_s'])}x "
            f"| {_r(*f['cpu_ms_per_hour'])}x |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; --write-readme also stores them and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--flavour",
        nargs="+",
        default=["mk3s", "mk3s-key", "mk4s"],
        help="simulator flavours; mk3s-key: Print Sentinel uses the X-Api-Key",
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--print-hours", type=float, default=2.0)
    parser.add_argument(
        "--write-readme",
        "--readme",
        dest="readme",
        action="store_true",
        help="store benchmarks/results/poll.json and write README.md's poll table",
    )
    args = parser.parse_args(argv)
    all_results, lines = run(args.flavour, args.seed, args.print_hours)
    sys.stdout.write("\n".join(lines) + "\n")
    if args.readme:
        TABLE.write(
            readme_table(store_results(all_results, args.seed, args.print_hours))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
