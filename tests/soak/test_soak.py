"""The fault-injection soak: two printers print for hours while everything breaks.

Two simulated Prusa MK4S print through full jobs in a test Home Assistant whose
clock is simulated (`freezer`): Alpha is watched by the OpenAI-compatible detector
and uploads its camera to Prusa Connect, Beta is watched by OctoEverywhere's Gadget.
Some prints are good (they must never be paused), some go bad at a known time (they
must be paused exactly once). On a fixed schedule the soak injects faults: printer
timeouts (no answer, a slow answer), refused connections, 500s, malformed JSON, a
401 (the reauth flow is counted, then completed), a reboot mid-print, camera errors,
oversized and non-image pictures, detector 429s, 5xx, timeouts, malformed and
off-schema answers, Gadget's fallback URL, an expired Gadget context, Prusa Connect
500s and a 401 (its repair issue is counted, then fixed by a reload).

It measures, and prints one figure a line (`soak.<name>: value unit (target: ...)`,
also written to `out/soak.txt`): faults injected, unhandled exceptions, spurious
and duplicate pause/stop commands, missed failures, the simulated seconds each
fault took to recover once cleared, warning lines per fault, secrets found in the
logs / diagnostics / entity states, and the memory growth between the end of the
warm-up cycle and the end of the run (tracemalloc, after `gc.collect()`).

Run (the figures need `-s`, or read `out/soak.txt`)::

    .venv/bin/python -m pytest tests/soak -m slow -s                  # CI, ~1 min
    PRINT_SENTINEL_SOAK=long .venv/bin/python -m pytest tests/soak -m slow -s
    .venv/bin/python -m benchmarks.soak                               # the long run

Time: each step ticks the frozen clock, fires what became due and then waits for
every task HA runs, but at most a real-time budget: while a fault makes requests
hang (their timeouts only expire when the clock ticks again) the budget is short,
otherwise a task that never finishes is reported as a stalled step.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import contextlib
import ctypes
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import gc
import json
import logging
import os
from pathlib import Path
import re
import sys
import threading
import time
import tracemalloc
from typing import Any
from unittest import mock
import weakref

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_TOKEN,
    CONF_CONNECT_URL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_GADGET_API_KEY,
    CONF_GADGET_URL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_PRINTER_TYPE,
    CONF_RESUME_GRACE,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
    EVENT_DETECTION,
    PRINTER_TYPE_PRUSALINK,
)
from custom_components.print_sentinel.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.print_sentinel.prusa_connect import auth_issue_id
from simulators.gadget import GadgetSimulator
from simulators.openai_compat import OpenAISimulator
from simulators.prusa_connect import PrusaConnectSimulator
from simulators.prusalink import PrusaLinkSimulator

from .conftest import (
    ALPHA_PASSWORD,
    ALPHA_SERIAL,
    BETA_PASSWORD,
    BETA_SERIAL,
    CONNECT_FINGERPRINT,
    CONNECT_TOKEN,
    GADGET_KEY,
    OPENAI_KEY,
    SECRETS,
)

STEP = 6.0
"""Simulated seconds per step: the printing poll interval."""
CHECK_INTERVAL = 30
PRINTER_TIMEOUT = 10.0
"""`printers.prusalink.REQUEST_TIMEOUT`."""
OPENAI_TIMEOUT = 30.0
GADGET_TIMEOUT = 60.0
CONNECT_MAX_BACKOFF = 300.0
CONNECT_INTERVAL = 10.0
GAP = 180.0
"""Simulated seconds the printer stays idle between two jobs."""
CANCEL_AFTER = 90.0
"""Simulated seconds the user takes to cancel a print Print Sentinel paused."""
RECOVERY_CAP = 900.0
"""A fault not recovered this long after it cleared counts as never recovered."""
BUDGET = 20.0
"""Real seconds a step may wait for HA's tasks; longer is a stalled step."""
HANG_BUDGET = 0.3
"""Real seconds a step waits while requests may hang on the frozen clock."""
OBJECT_BOUND = 1500
"""Live gc-tracked objects the process may gain from the end of the warm-up cycle to
the end of the run, with no single type gaining more than `TYPE_BOUND`.

Every cycle after the first repeats the same prints and faults: ~1,600 polls,
~250 detector checks, ~250 Connect uploads, ~34 faults and 4 entry reloads a
cycle. A leak of one object per check or upload adds more than `TYPE_BOUND` of one
type per cycle, one per poll far more; what a sample catches beyond that (requests
in flight, the current print's frames, caches filling up) is in the hundreds.
"""
TYPE_BOUND = 150
TRACED_BOUND = 2 * 1024 * 1024
"""Bytes traced memory may grow from the end of the warm-up cycle to the end (when
tracemalloc runs: the long profile): a leaked 256 px frame per check (~6 KB x ~250
checks a cycle) or a leaked HTTP response per poll (~1 KB x ~1,600 polls a cycle)
exceeds it within one cycle; what is in flight at a sample stays well below it.
"""

ALPHA = "alpha"
BETA = "beta"
NAMES = {ALPHA: "Alpha MK4S", BETA: "Beta MK4S"}
OUR_LOGGERS = ("custom_components.print_sentinel", "homeassistant")
SIM_LOGGERS = ("aiohttp", "simulators")
UNHANDLED_PATTERNS = re.compile(
    r"Error doing job|Task exception was never retrieved|Exception in callback|"
    r"Unexpected error|Unhandled exception|Error handling request|"
    r"Task was destroyed but it is pending|Exception in "
)


HELD_TYPES = frozenset(
    {
        "traceback",
        "frame",
        "coroutine",
        "Task",
        "Future",
        "ReferenceType",
        "builtin_function_or_method",
    }
)
"""Types whose new live instances are traced back to who holds them."""


def _describe(obj: object) -> str:
    kind = type(obj).__name__
    if isinstance(obj, BaseException):
        return f"{kind}({str(obj)[:60]!r})"
    if kind == "frame":
        return f"frame {obj.f_code.co_qualname} {obj.f_code.co_filename.rsplit('/', 2)[-1]}"  # type: ignore[attr-defined]
    if kind == "coroutine":
        return f"coroutine {obj.__qualname__}"  # type: ignore[attr-defined]
    if kind == "dict":
        return f"dict keys={list(obj)[:4]}"  # type: ignore[call-overload]
    if kind == "ReferenceType":
        return f"weakref to {type(obj()).__name__} cb={getattr(obj, '__callback__', None)!r:.60}"  # type: ignore[operator]
    if kind == "builtin_function_or_method":
        return f"builtin {obj!r:.80}"
    if kind in ("list", "tuple"):
        items = sorted({type(item).__name__ for item in obj[:20]})  # type: ignore[index]
        return f"{kind}[{len(obj)}] of {items}"  # type: ignore[arg-type]
    return kind


def _holders(new: list[object]) -> list[str]:
    """Who holds the objects of `HELD_TYPES` made after warm-up: for a sample of
    them, the chain of referrers up to the first that is not a frame, traceback,
    exception or container."""
    chains: Counter[str] = Counter()
    mine = {id(new), id(sys._getframe())}
    passthrough = ("traceback", "frame", "cell", "tuple", "list", "dict")
    sample = new[:: max(1, len(new) // 40)][:40]
    mine.add(id(sample))
    for obj in sample:
        chain = [_describe(obj)]
        mine.add(id(chain))
        current = obj
        for _ in range(60):
            raw = gc.get_referrers(current)
            mine.add(id(raw))
            candidates = [r for r in raw if id(r) not in mine]
            del raw
            if not candidates:
                chain.append("(nothing)")
                break
            current = candidates[0]
            del candidates
            if chain[-1] != (described := _describe(current)):
                chain.append(described)
            if type(current).__name__ not in passthrough and not isinstance(
                current, BaseException
            ):
                break
        chains[" <- ".join(chain)] += 1
    return [f"{n}x {chain}" for chain, n in chains.most_common(15)]


def _malloc_trim() -> None:
    """Give freed heap back to the OS (glibc), so RSS shows what is in use."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _wall() -> float:
    """Real monotonic seconds (freezegun leaves clock_gettime alone)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


_CONTAINERS = (dict, list, tuple, set, frozenset, datetime)
"""What the walk over the soak's own records follows: containers and timestamps."""


def _reachable(roots: list[object], own_types: tuple[type, ...]) -> set[int]:
    """Ids of what `roots` hold through containers and `own_types` instances.

    Types, modules, functions and everything else end the walk: the records hold
    plain data, and following an instance's class would reach the whole process.
    """
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        # type(), not isinstance(): a lazy proxy (the OpenAI SDK's) loads what it
        # stands for when asked for its __class__, growing memory as it is counted
        if id(obj) in seen or not issubclass(type(obj), (*_CONTAINERS, *own_types)):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return seen


def _is_type_cache_entry(obj: object) -> bool:
    """A weak-set entry of an abstract base class's caches (`_abc`), or its callback.

    `isinstance(x, SomeABC)` remembers x's type in a set of weak references whose
    callback is a builtin `_destroy`. These refer to types, never to instances, so
    they are bounded by the number of types and cannot keep a request, a frame or a
    response alive.
    """
    if type(obj) is weakref.ReferenceType:
        callback = obj.__callback__
        return (
            isinstance(obj(), type)
            and callback is not None
            and getattr(callback, "__name__", None) == "_destroy"
        )
    return (
        type(obj).__name__ == "builtin_function_or_method"
        and getattr(obj, "__name__", None) == "_destroy"
    )


# --- profiles -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JobPlan:
    """One print: good, or going bad `fail_at` seconds into printing."""

    duration: float
    fail_at: float | None = None
    kind: str = "spaghetti"
    score: int = 92
    ramp: float = 240.0


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    """A fault `offset` seconds after job `job` of a cycle starts, for `duration` s."""

    job: int
    offset: float
    name: str
    duration: float


@dataclass(frozen=True, kw_only=True)
class Profile:
    """How long the soak runs: `cycles` times the same prints and faults."""

    name: str
    cycles: int
    jobs: dict[str, tuple[JobPlan, ...]]
    faults: dict[str, tuple[FaultPlan, ...]]


def _min(minutes: float) -> float:
    return minutes * 60.0


def _profile(name: str) -> Profile:
    """The CI profile (2 cycles, warm-up plus one) or the long one (4 cycles)."""
    long = name == "long"
    good = _min(40 if long else 25)
    bad = _min(45 if long else 30)
    alpha_jobs = (
        JobPlan(duration=good),
        JobPlan(duration=bad, fail_at=_min(14)),
        JobPlan(duration=good),
    )
    beta_jobs = (
        JobPlan(duration=good),
        JobPlan(duration=bad, fail_at=_min(14), kind="detachment", score=90),
        JobPlan(duration=good),
    )
    alpha_faults = (
        FaultPlan(job=0, offset=_min(3), name="printer_500", duration=90),
        FaultPlan(job=0, offset=_min(7), name="openai_429", duration=120),
        FaultPlan(job=0, offset=_min(9.5), name="connect_forgot", duration=0),
        FaultPlan(job=0, offset=_min(11), name="camera_error", duration=90),
        FaultPlan(job=0, offset=_min(15), name="printer_malformed", duration=60),
        FaultPlan(job=0, offset=_min(18), name="openai_timeout", duration=90),
        FaultPlan(job=0, offset=_min(21.5), name="connect_500", duration=150),
        FaultPlan(job=0, offset=good + 30, name="printer_refused", duration=90),
        FaultPlan(job=1, offset=_min(2), name="openai_malformed", duration=90),
        FaultPlan(job=1, offset=_min(5), name="camera_oversized", duration=120),
        FaultPlan(job=1, offset=_min(9), name="printer_timeout", duration=60),
        FaultPlan(job=1, offset=_min(13), name="openai_500", duration=90),
        FaultPlan(job=2, offset=_min(2), name="printer_401", duration=60),
        FaultPlan(job=2, offset=_min(5.5), name="connect_401", duration=60),
        FaultPlan(job=2, offset=_min(9), name="openai_off_schema", duration=90),
        FaultPlan(job=2, offset=_min(12), name="camera_not_image", duration=90),
        FaultPlan(job=2, offset=_min(15), name="connect_timeout", duration=60),
        FaultPlan(job=2, offset=_min(18), name="openai_503", duration=90),
        FaultPlan(job=2, offset=_min(21), name="printer_reboot", duration=60),
    )
    beta_faults = (
        FaultPlan(job=0, offset=_min(2), name="gadget_fallback", duration=180),
        FaultPlan(job=0, offset=_min(7), name="printer_hang", duration=60),
        FaultPlan(job=0, offset=_min(10), name="gadget_429", duration=0),
        FaultPlan(job=0, offset=_min(13), name="camera_error", duration=90),
        FaultPlan(job=0, offset=_min(17), name="gadget_malformed", duration=90),
        FaultPlan(job=0, offset=_min(21), name="printer_refused", duration=60),
        FaultPlan(job=0, offset=good + 30, name="printer_500", duration=90),
        FaultPlan(job=1, offset=_min(2), name="gadget_502", duration=120),
        FaultPlan(job=1, offset=_min(6), name="gadget_timeout", duration=90),
        FaultPlan(job=1, offset=_min(10), name="printer_malformed", duration=60),
        FaultPlan(job=1, offset=_min(13), name="camera_oversized", duration=180),
        FaultPlan(job=1, offset=_min(16.5), name="gadget_500", duration=0),
        FaultPlan(job=2, offset=_min(2), name="printer_401", duration=60),
        FaultPlan(job=2, offset=_min(6), name="gadget_context_expired", duration=0),
        FaultPlan(job=2, offset=_min(9), name="camera_not_image", duration=90),
        FaultPlan(job=2, offset=_min(13), name="printer_timeout", duration=60),
        FaultPlan(job=2, offset=_min(15.5), name="printer_omit_optional", duration=60),
        FaultPlan(job=2, offset=_min(18), name="printer_reboot", duration=60),
    )
    return Profile(
        name=name,
        cycles=4 if long else 2,
        jobs={ALPHA: alpha_jobs, BETA: beta_jobs},
        faults={ALPHA: alpha_faults, BETA: beta_faults},
    )


# --- logs -----------------------------------------------------------------------


@dataclass
class LogLine:
    """A warning or worse, kept for the per-fault count and the report."""

    at: float
    """Simulated seconds since the soak started."""
    logger: str
    level: int
    template: str
    message: str
    printers: frozenset[str]


class LogAudit(logging.Handler):
    """Reads every record once: secrets, unhandled exceptions, warnings.

    Only warnings (few) are kept; everything else is inspected and dropped, so the
    handler does not grow with the run.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        """Start counting; `clock` gives the simulated seconds for each line."""
        super().__init__(logging.DEBUG)
        self._clock = clock
        self._formatter = logging.Formatter()
        self.records = 0
        self.secret_hits: Counter[tuple[str, str]] = Counter()
        self.unhandled: list[str] = []
        self.simulator_errors: list[str] = []
        self.lines: list[LogLine] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Inspect one record."""
        self.records += 1
        try:
            message = record.getMessage()
        except Exception as err:  # a broken log call is itself a finding
            self.unhandled.append(f"{record.name}: unformattable log record: {err}")
            return
        text = message
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        for label, secret in SECRETS.items():
            if secret in text:
                self.secret_hits[(label, record.name)] += 1
        if record.levelno < logging.WARNING:
            return
        simulator = record.name.startswith(SIM_LOGGERS)
        unhandled = (record.levelno >= logging.ERROR and record.exc_info) or (
            UNHANDLED_PATTERNS.search(message) and record.levelno >= logging.ERROR
        )
        if unhandled:
            summary = f"{record.name}: {message.splitlines()[0][:300]}"
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                summary += f" [{type(exc).__name__}: {str(exc)[:200]}]"
            (self.simulator_errors if simulator else self.unhandled).append(summary)
        if record.name.startswith(OUR_LOGGERS) and not message.startswith(
            "Executing <"  # asyncio debug: a slow callback, not an outage
        ):
            printers = frozenset(
                key for key, name in NAMES.items() if name.split()[0] in message
            )
            self.lines.append(
                LogLine(
                    at=self._clock(),
                    logger=record.name,
                    level=record.levelno,
                    template=str(record.msg),
                    message=message[:300],
                    printers=printers,
                )
            )


# --- the real-time budget -----------------------------------------------------


class Settler:
    """Waits for Home Assistant's tasks for at most a real-time budget.

    `asyncio.wait(timeout=...)` cannot bound it: the loop's clock is frozen. One
    worker thread waits on an event instead, and is released as soon as the tasks
    are done.
    """

    def __init__(self) -> None:
        """Start the worker pool (one thread, joined by `close`)."""
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="soak-settle")
        self.stalls: list[str] = []

    async def settle(self, hass: HomeAssistant, budget: float, at: float) -> None:
        """Run until every task is done, or `budget` real seconds passed."""
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        release = threading.Event()
        timer = loop.run_in_executor(self._pool, release.wait, budget)
        try:
            while True:
                pending = [
                    task
                    for task in (*hass._tasks, *hass._background_tasks)
                    if task is not current and not task.done()
                ]
                if not pending:
                    return
                if timer.done():
                    if budget >= BUDGET:
                        names = sorted({_task_name(task) for task in pending})
                        self.stalls.append(f"t={at:.0f}s: {', '.join(names)[:300]}")
                    return
                await asyncio.wait(
                    [*pending, timer], return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            release.set()
            await timer

    def close(self) -> None:
        """Join the worker thread."""
        self._pool.shutdown(wait=True)


def _task_name(task: asyncio.Future[Any]) -> str:
    if isinstance(task, asyncio.Task):
        return task.get_name()
    return repr(task)[:80]


# --- faults -------------------------------------------------------------------


@dataclass(kw_only=True)
class FaultRun:
    """One injected fault and what it did."""

    printer: str
    name: str
    cycle: int
    injected_at: float
    clears_at: float
    category: str
    target: float
    """Seconds within which it must recover once cleared (the next opportunity)."""
    hangs: bool = False
    from_inject: bool = False
    """Recovery is timed from the injection: service must go on during the fault."""
    cleared_at: float | None = None
    measure_since: datetime | None = None
    measure_from: float | None = None
    recovered_after: float | None = None
    settled: bool = False
    not_measurable: str | None = None
    log_lines: int = 0
    log_repeats: int = 0
    templates: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class PrinterRig:
    """One simulated printer, its config entry and the script it follows."""

    key: str
    sim: PrusaLinkSimulator
    entry: MockConfigEntry
    password: str
    serial: str
    plan: list[tuple[int, int, JobPlan]]
    """(cycle, index in cycle, job) in print order."""
    next_job: int = 0
    phase: str = "gap"
    gap_until: float = 0.0
    job_started_at: float = 0.0
    job_id: int | None = None
    job_plan: JobPlan | None = None
    cancel_at: float | None = None
    jobs: dict[int, JobPlan] = field(default_factory=dict)
    job_cycle: dict[int, int] = field(default_factory=dict)
    pauses: Counter[int] = field(default_factory=Counter)
    stops: Counter[int] = field(default_factory=Counter)
    failed_commands: Counter[int] = field(default_factory=Counter)
    pause_at: dict[int, float] = field(default_factory=dict)
    """Print seconds into the job when the (first) pause arrived."""
    lost_jobs: list[int] = field(default_factory=list)
    printed: dict[int, float] = field(default_factory=dict)
    """Print seconds each job got."""
    requests: int = 0
    events: Counter[tuple[int, str]] = field(default_factory=Counter)

    @property
    def title(self) -> str:
        """The config entry's title (the printer's name)."""
        return NAMES[self.key]

    def state_entity(self, hass: HomeAssistant) -> str | None:
        """The printer state sensor's entity id."""
        return er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{self.serial}_state"
        )


class Soak:
    """Runs the profile and keeps the figures."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        profile: Profile,
        rigs: dict[str, PrinterRig],
        vision: OpenAISimulator,
        gadget: GadgetSimulator,
        connect: PrusaConnectSimulator,
    ) -> None:
        """Prepare; nothing runs before `run`."""
        self.hass = hass
        self.freezer = freezer
        self.profile = profile
        self.rigs = rigs
        self.vision = vision
        self.gadget = gadget
        self.connect = connect
        self.t = 0.0
        self.settler = Settler()
        self.audit = LogAudit(lambda: self.t)
        self.schedule: list[tuple[float, str, FaultPlan, int]] = []
        self.active: list[FaultRun] = []
        self.measuring: list[FaultRun] = []
        self.done: list[FaultRun] = []
        self.short_budget_until = -1.0
        self.reauth_flows: set[str] = set()
        self.connect_issues = 0
        self._connect_issue_seen = False
        self.diagnostics_dumps = 0
        self.diagnostics_hits: Counter[str] = Counter()
        self.state_hits: Counter[str] = Counter()
        self.objects: dict[str, Counter[type]] = {}
        self.memory: dict[str, int] = {}
        self.memory_rss: dict[str, int] = {}
        self.snapshots: dict[str, tracemalloc.Snapshot] = {}
        self.warm_ids: set[int] = set()
        self.holders: list[str] = []
        self.uploads = 0
        self.checks: Counter[str] = Counter()
        self.steps = 0
        self.wall = 0.0

    # --- helpers ---------------------------------------------------------------

    def runtime(self, key: str) -> Any:
        """The runtime data of a printer's entry (None while not loaded)."""
        entry = self.rigs[key].entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        return entry.runtime_data

    async def step(self) -> None:
        """Let STEP simulated seconds pass and run what became due."""
        self.t += STEP
        self.steps += 1
        self.freezer.tick(timedelta(seconds=STEP))
        async_fire_time_changed(self.hass)
        budget = HANG_BUDGET if self.t <= self.short_budget_until else BUDGET
        await self.settler.settle(self.hass, budget, self.t)

    async def settle(self) -> None:
        """Run what is pending now (e.g. after a flow or a reload) without ticking."""
        budget = HANG_BUDGET if self.t <= self.short_budget_until else BUDGET
        await self.settler.settle(self.hass, budget, self.t)

    # --- printers and prints -----------------------------------------------------

    def drive_printers(self) -> None:
        """Move every printer's clock on and play the user: start and cancel jobs."""
        for rig in self.rigs.values():
            sim = rig.sim
            sim.advance(STEP)
            if rig.phase == "printing":
                job = sim.job
                if job is None or job.id != rig.job_id:
                    # the job ended: finished, cancelled by the user, or lost
                    assert rig.job_id is not None
                    plan = rig.jobs[rig.job_id]
                    printed = rig.printed.get(rig.job_id, 0.0)
                    if rig.job_id not in rig.pause_at and printed < plan.duration:
                        rig.lost_jobs.append(rig.job_id)
                    rig.phase = "gap"
                    rig.gap_until = self.t + GAP
                    rig.cancel_at = None
                    continue
                rig.printed[job.id] = job.time_printing
                if sim.state == "PAUSED" and rig.cancel_at is None:
                    rig.cancel_at = self.t + CANCEL_AFTER
                if rig.cancel_at is not None and self.t >= rig.cancel_at:
                    if sim.state == "PAUSED":
                        sim.cancel()
                    rig.cancel_at = float("inf")
            elif rig.phase == "gap" and self.t >= rig.gap_until:
                if sim.state != "IDLE" or not sim.online:
                    continue
                if rig.next_job >= len(rig.plan):
                    rig.phase = "done"
                    continue
                cycle, index, plan = rig.plan[rig.next_job]
                rig.next_job += 1
                self._start_job(rig, cycle, index, plan)

    def _start_job(
        self, rig: PrinterRig, cycle: int, index: int, plan: JobPlan
    ) -> None:
        sim = rig.sim
        # keep only the current print file: the simulator's USB stick is not ours
        sim.printer.files.clear()
        sim._thumb_cache.clear()
        sim.clear_failure()
        job_id = sim.start_job(
            display_name=f"{rig.key}_c{cycle}_j{index}_0.4n_0.2mm_PLA_MK4S.bgcode",
            material="PLA",
            duration=int(plan.duration),
        )
        if plan.fail_at is not None:
            sim.script_failure(
                start=plan.fail_at, kind=plan.kind, score=plan.score, ramp=plan.ramp
            )
        rig.phase = "printing"
        rig.job_id = job_id
        rig.job_plan = plan
        rig.jobs[job_id] = plan
        rig.job_cycle[job_id] = cycle
        rig.job_started_at = self.t
        rig.cancel_at = None
        for fault in self.profile.faults[rig.key]:
            if fault.job == index:
                self.schedule.append((self.t + fault.offset, rig.key, fault, cycle))
        self.schedule.sort(key=lambda item: item[0])

    def account_requests(self) -> None:
        """Count pause/stop commands per job from the printers' request logs."""
        for rig in self.rigs.values():
            records = list(rig.sim.requests)
            rig.sim.requests.clear()
            rig.requests += len(records)
            for record in records:
                match = re.fullmatch(r"/api/v1/job/(\d+)(/pause)?", record.path)
                if match is None:
                    continue
                job_id = int(match.group(1))
                if match.group(2) and record.method == "PUT":
                    if record.status == 204:
                        rig.pauses[job_id] += 1
                        job = rig.sim.job
                        if job_id not in rig.pause_at and job is not None:
                            rig.pause_at[job_id] = job.time_printing
                    else:
                        rig.failed_commands[job_id] += 1
                elif not match.group(2) and record.method == "DELETE":
                    if record.status == 204:
                        rig.stops[job_id] += 1
                    else:
                        rig.failed_commands[job_id] += 1

    def drain_simulators(self) -> None:
        """Count and forget what the detector and Connect simulators recorded."""
        self.checks[ALPHA] += len(self.vision.requests)
        self.vision.requests.clear()
        self.checks[BETA] += len(self.gadget.process_requests())
        self.gadget.requests.clear()
        runtime = self.runtime(BETA)
        current = (
            runtime.monitor.detector.context_id
            if runtime is not None and runtime.monitor is not None
            else None
        )
        for context_id in [c for c in self.gadget.contexts if c != current]:
            del self.gadget.contexts[context_id]
        for camera in self.connect.cameras.values():
            self.uploads += len(camera.snapshots)
            camera.snapshots.clear()
        self.connect.requests.clear()

    # --- faults ----------------------------------------------------------------

    async def inject_due(self) -> None:
        """Start every fault whose time has come."""
        while self.schedule and self.schedule[0][0] <= self.t:
            _, key, plan, cycle = self.schedule.pop(0)
            await self._inject(key, plan, cycle)

    async def _inject(self, key: str, plan: FaultPlan, cycle: int) -> None:
        rig = self.rigs[key]
        sim = rig.sim
        name = plan.name
        category = name.split("_", 1)[0]
        coordinator = self.runtime(key).coordinator if self.runtime(key) else None
        interval = (
            coordinator.update_interval.total_seconds()
            if coordinator and coordinator.update_interval
            else 30.0
        )
        run = FaultRun(
            printer=key,
            name=name,
            cycle=cycle,
            injected_at=self.t,
            clears_at=self.t + plan.duration,
            category="detector" if category in ("openai", "gadget") else category,
            target=0.0,
        )
        faults = sim.faults
        if name == "printer_500":
            faults.server_error = True
        elif name == "printer_malformed":
            faults.malformed_json = True
        elif name == "printer_hang":
            faults.hang = True
            run.hangs = True
        elif name == "printer_timeout":
            faults.delay = PRINTER_TIMEOUT + 2
            run.hangs = True
        elif name in ("printer_refused", "printer_reboot"):
            await sim.go_offline()
        elif name == "printer_401":
            faults.unauthorized = True
        elif name == "printer_omit_optional":
            faults.omit_optional = True
            run.from_inject = True
        elif name == "camera_error":
            faults.camera_error = True
        elif name == "camera_oversized":
            faults.camera_oversized = True
            run.from_inject = True
        elif name == "camera_not_image":
            faults.camera_not_image = True
        elif name.startswith("openai_"):
            mode = {
                "openai_429": "rate_limit",
                "openai_500": "server_error",
                "openai_503": "unavailable",
                "openai_timeout": "hang",
                "openai_malformed": "malformed",
                "openai_off_schema": "off_schema",
            }[name]
            self.vision.set_mode(mode)
            run.hangs = mode == "hang"
        elif name == "gadget_fallback":
            await self.gadget.set_primary("refused")
            run.from_inject = True
        elif name == "gadget_502":
            await self.gadget.set_primary("error")
            run.from_inject = True
        elif name == "gadget_timeout":
            self.gadget.set_hang(True)
            run.hangs = True
        elif name == "gadget_malformed":
            self.gadget.malformed = "{'Score': 12,"
        elif name == "gadget_429":
            self.gadget.fail_next("OE_CONTEXT_RATE_LIMITED", count=2)
            run.from_inject = True
        elif name == "gadget_500":
            self.gadget.fail_next("OE_INTERNAL_ERROR", count=2)
            run.from_inject = True
        elif name == "gadget_context_expired":
            self.gadget.expire_contexts()
            run.from_inject = True
        elif name == "connect_500":
            self.connect.fail_500 = True
        elif name == "connect_401":
            self.connect.force_status = 401
        elif name == "connect_timeout":
            self.connect.set_hang(True)
            run.hangs = True
        elif name == "connect_forgot":
            self.connect.forget_registrations()
            run.from_inject = True
        else:  # pragma: no cover - a typo in a profile
            raise ValueError(name)
        run.target = self._target(run, interval)
        if run.hangs:
            self.short_budget_until = max(
                self.short_budget_until, run.clears_at + GADGET_TIMEOUT + 2 * STEP
            )
        if run.from_inject:
            run.measure_from = self.t
            run.measure_since = dt_util.utcnow()
            self.measuring.append(run)
        self.active.append(run)

    def _target(self, run: FaultRun, interval: float) -> float:
        """The next opportunity to recover, in simulated seconds (plus one step)."""
        name = run.name
        if run.category == "printer":
            if name == "printer_401":
                return STEP  # the flow's reload polls at once
            timeout = PRINTER_TIMEOUT if run.hangs else 0.0
            return (
                timeout + max(interval, 30.0 if name == "printer_reboot" else 0) + STEP
            )
        if run.category == "camera":
            return CHECK_INTERVAL + 2 * STEP
        if run.category == "connect":
            if name == "connect_401":
                return CONNECT_INTERVAL + 2 * STEP
            if name == "connect_forgot":  # a 400, registered again, then uploaded
                return 3 * (CONNECT_INTERVAL + STEP)
            return CONNECT_MAX_BACKOFF + CONNECT_INTERVAL + STEP
        # detectors: the next check; a hung request first runs into its timeout,
        # Gadget holds its calls for its interval after an error
        timeout = (OPENAI_TIMEOUT if name.startswith("openai") else GADGET_TIMEOUT) * (
            run.hangs
        )
        queued = {
            "gadget_429": 2,
            "gadget_500": 2,
            "gadget_context_expired": 1,
            "gadget_fallback": 1,  # the check that fails over, then Gadget's hold
            "gadget_502": 1,
        }.get(name, 0)
        return timeout + (1 + queued) * (CHECK_INTERVAL + STEP) + 2 * STEP

    async def clear_due(self) -> None:
        """End every fault whose time is over and start timing its recovery."""
        for run in [r for r in self.active if r.clears_at <= self.t]:
            self.active.remove(run)
            await self._clear(run)
            run.cleared_at = self.t
            if not run.from_inject:
                run.measure_from = self.t
                run.measure_since = dt_util.utcnow()
                self.measuring.append(run)
            await self.dump_diagnostics()

    async def _clear(self, run: FaultRun) -> None:
        rig = self.rigs[run.printer]
        sim = rig.sim
        name = run.name
        if name.startswith(("printer_", "camera_")):
            if name == "printer_reboot":
                sim.reboot()
                await sim.come_back()
            elif name == "printer_refused":
                await sim.come_back()
            elif name == "printer_401":
                sim.faults.clear()
                await self._complete_reauth(rig)
            sim.faults.clear()
        elif name.startswith("openai_"):
            self.vision.set_mode("normal")
        elif name in ("gadget_fallback", "gadget_502"):
            await self.gadget.set_primary("up")
        elif name == "gadget_timeout":
            self.gadget.set_hang(False)
        elif name == "gadget_malformed":
            self.gadget.malformed = None
        elif name == "connect_500":
            self.connect.fail_500 = False
        elif name == "connect_timeout":
            self.connect.set_hang(False)
        elif name == "connect_401":
            self.connect.force_status = None
            # the user's fix: save the options again, which reloads the entry
            assert await self.hass.config_entries.async_reload(rig.entry.entry_id)
            await self.settle()

    async def _complete_reauth(self, rig: PrinterRig) -> None:
        flows = [
            flow
            for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
            and flow["context"].get("entry_id") == rig.entry.entry_id
        ]
        assert flows, f"no reauth flow for {rig.title} after a 401"
        for flow in flows:
            self.reauth_flows.add(flow["flow_id"])
            result = await self.hass.config_entries.flow.async_configure(
                flow["flow_id"],
                {CONF_USERNAME: "maker", CONF_PASSWORD: rig.password},
            )
            assert result["type"] == "abort", result
            assert result["reason"] == "reauth_successful", result
        await self.settle()

    def watch_flows_and_issues(self) -> None:
        """Count reauth flows and Prusa Connect auth issues as they appear."""
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            if flow["context"]["source"] == SOURCE_REAUTH:
                self.reauth_flows.add(flow["flow_id"])
        issue = ir.async_get(self.hass).async_get_issue(
            DOMAIN, auth_issue_id(self.rigs[ALPHA].entry.entry_id)
        )
        if issue is not None and not self._connect_issue_seen:
            self.connect_issues += 1
        self._connect_issue_seen = issue is not None

    def _healthy(self, run: FaultRun) -> bool | None:
        """Whether what the fault broke works again; None: cannot tell any more."""
        rig = self.rigs[run.printer]
        runtime = self.runtime(run.printer)
        if runtime is None:
            return False
        since = run.measure_since
        assert since is not None
        if run.category == "printer":
            entity_id = rig.state_entity(self.hass)
            state = self.hass.states.get(entity_id) if entity_id else None
            if state is None or state.state == STATE_UNAVAILABLE:
                return False
            return state.state == rig.sim.state.lower()
        if run.category == "connect":
            uploader = runtime.connect_uploader
            issue = ir.async_get(self.hass).async_get_issue(
                DOMAIN, auth_issue_id(rig.entry.entry_id)
            )
            return (
                uploader is not None
                and uploader.last_success is not None
                and uploader.last_success >= since
                and issue is None
            )
        monitor = runtime.monitor
        if rig.sim.state != "PRINTING":
            return None
        ok = (
            monitor.state.last_check is not None
            and monitor.state.last_check >= since
            and monitor.state.last_error is None
        )
        if ok and run.name == "camera_oversized" and run.printer == ALPHA:
            uploader = runtime.connect_uploader
            ok = uploader.last_success is not None and uploader.last_success >= since
        if ok and run.name in ("gadget_fallback", "gadget_502"):
            ok = monitor.detector.using_fallback
        return ok

    def measure_recoveries(self) -> None:
        """Time every fault that is waiting to recover; close finished windows."""
        for run in list(self.measuring):
            assert run.measure_from is not None
            if not run.settled:
                healthy = self._healthy(run)
                elapsed = self.t - run.measure_from
                if healthy:
                    run.recovered_after = elapsed
                    run.settled = True
                elif healthy is None:
                    run.not_measurable = f"printer {self.rigs[run.printer].sim.state}"
                    run.settled = True
                elif elapsed >= RECOVERY_CAP:
                    run.settled = True
            if run.settled and run.cleared_at is not None:
                # the log window covers the fault and its recovery
                self.measuring.remove(run)
                self._close_window(run)

    def _close_window(self, run: FaultRun) -> None:
        end = self.t
        lines = [
            line
            for line in self.audit.lines
            if line.level >= logging.WARNING
            and run.injected_at <= line.at <= end
            and (run.printer in line.printers or not line.printers)
        ]
        run.log_lines = len(lines)
        repeats = Counter((line.logger, line.template) for line in lines)
        run.log_repeats = max(repeats.values(), default=0)
        run.templates = [
            f"{n}x {logger}: {tpl[:90]}" for (logger, tpl), n in repeats.items()
        ]
        self.done.append(run)

    # --- secrets and memory ----------------------------------------------------

    async def dump_diagnostics(self) -> None:
        """Search both entries' diagnostics for every secret."""
        for rig in self.rigs.values():
            if rig.entry.state is not ConfigEntryState.LOADED:
                continue
            data = await async_get_config_entry_diagnostics(self.hass, rig.entry)
            text = json.dumps(data, default=str)
            self.diagnostics_dumps += 1
            for label, secret in SECRETS.items():
                if secret in text:
                    self.diagnostics_hits[label] += 1

    def scan_states(self) -> None:
        """Search every entity state and attribute for every secret."""
        for state in self.hass.states.async_all():
            text = f"{state.state} {state.attributes}"
            for label, secret in SECRETS.items():
                if secret in text:
                    self.state_hits[label] += 1

    def _not_the_integration(self, objects: list[object]) -> set[int]:
        """Ids of the live objects that the soak itself or the test harness keeps.

        The soak's own records (faults, log lines, counters, earlier samples) grow
        with every fault by design, so do the call records of the harness's mocks
        (its storage writes on every entry update), and `_abc` type caches fill as
        new code paths run `isinstance`: none of them is the integration's memory.
        """
        roots: list[object] = [
            self.done,
            self.active,
            self.measuring,
            self.schedule,
            self.audit.lines,
            self.audit.unhandled,
            self.audit.simulator_errors,
            self.audit.secret_hits,
            self.reauth_flows,
            self.diagnostics_hits,
            self.state_hits,
            self.objects,
            self.memory,
            self.memory_rss,
            self.checks,
            self.settler.stalls,
        ]
        for rig in self.rigs.values():
            roots += [
                rig.plan,
                rig.jobs,
                rig.job_cycle,
                rig.pauses,
                rig.stops,
                rig.failed_commands,
                rig.pause_at,
                rig.lost_jobs,
                rig.printed,
                rig.events,
            ]
        for obj in objects:
            if issubclass(type(obj), mock.NonCallableMock):  # see _reachable
                roots += [obj.call_args_list, obj.mock_calls, obj.method_calls]
        own = _reachable(roots, (LogLine, FaultRun, FaultPlan, JobPlan, mock._Call))
        own.update(id(obj) for obj in objects if _is_type_cache_entry(obj))
        own.add(id(objects))
        return own

    def sample_memory(self, label: str) -> None:
        """Live objects by type, RSS and traced bytes, after a full collection."""
        self.drain_simulators()
        gc.collect()
        objects = gc.get_objects()
        excluded = self._not_the_integration(objects)
        objects = [o for o in objects if id(o) not in excluded]
        del excluded
        counts: Counter[type] = Counter()
        for obj in objects:
            counts[type(obj)] += 1
        self.objects[label] = counts
        held = [o for o in objects if type(o).__name__ in HELD_TYPES]
        del objects
        if label == "warm":
            self.warm_ids = {id(o) for o in held}
        if label == "end":
            grown = Counter(
                {
                    kind.__name__: n - self.objects["warm"][kind]
                    for kind, n in self.objects["end"].items()
                    if kind.__name__ in HELD_TYPES
                }
            )
            top = grown.most_common(1)
            if top and top[0][1] > TYPE_BOUND:  # name who holds them
                new = [
                    o
                    for o in held
                    if type(o).__name__ == top[0][0] and id(o) not in self.warm_ids
                ]
                del held
                self.holders = _holders(new)
                del new
        _malloc_trim()
        with Path("/proc/self/statm").open(encoding="ascii") as statm:
            self.memory_rss[label] = int(statm.read().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
        if tracemalloc.is_tracing():
            self.memory[label] = tracemalloc.get_traced_memory()[0]
            if label in ("warm", "end"):
                self.snapshots[label] = tracemalloc.take_snapshot().filter_traces(
                    [tracemalloc.Filter(False, tracemalloc.__file__)]
                )

    # --- the run ---------------------------------------------------------------

    async def run(self) -> None:
        """Play every cycle, then let the printers go quiet."""
        started = _wall()
        while any(rig.phase != "done" for rig in self.rigs.values()) or self.active:
            self.drive_printers()
            await self.inject_due()
            await self.clear_due()
            await self.step()
            self.account_requests()
            self.watch_flows_and_issues()
            self.measure_recoveries()
            if self.steps % 50 == 0:
                self.drain_simulators()
            started_jobs = min(rig.next_job for rig in self.rigs.values())
            per_cycle = len(next(iter(self.profile.jobs.values())))
            total = len(next(iter(self.rigs.values())).plan)
            if "warm" not in self.objects and started_jobs > per_cycle:
                self.sample_memory("warm")
            if (
                "mid" not in self.objects
                and started_jobs > per_cycle + (total - per_cycle) // 2
            ):
                self.sample_memory("mid")
            if self.t > 24 * 3600:  # pragma: no cover - a runaway script
                raise AssertionError("the soak did not finish within a simulated day")
        # quiet period: every recovery measured, hung requests released
        quiet_until = self.t + RECOVERY_CAP
        while self.measuring and self.t < quiet_until:
            self.drive_printers()
            await self.step()
            self.account_requests()
            self.measure_recoveries()
        for run in list(self.measuring):
            self.measuring.remove(run)
            self._close_window(run)
        for _ in range(int((GADGET_TIMEOUT + 2 * STEP) / STEP)):
            await self.step()
        self.account_requests()
        self.drain_simulators()
        await self.dump_diagnostics()
        self.scan_states()
        self.sample_memory("end")
        self.wall = _wall() - started


# --- the test -------------------------------------------------------------------


def _entry(
    sim: PrusaLinkSimulator, serial: str, password: str, title: str
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=serial,
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
            CONF_HOST: sim.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: password,
        },
    )


def _detection_options(sim: PrusaLinkSimulator) -> dict[str, Any]:
    return {
        CONF_SNAPSHOT_URL: sim.snapshot_url,
        CONF_CHECK_INTERVAL: CHECK_INTERVAL,
        CONF_FAILURE_ACTION: "pause",
        CONF_WARNING_ACTION: "notify",
        CONF_RESUME_GRACE: 300,
    }


def _object_growth(soak: Soak, label: str) -> tuple[int, list[tuple[str, int]]]:
    """Live objects gained since the warm-up sample, and per type, largest first."""
    warm, later = soak.objects["warm"], soak.objects.get(label, soak.objects["warm"])
    deltas = Counter(later)
    deltas.subtract(warm)
    types = sorted(
        ((f"{kind.__module__}.{kind.__qualname__}", n) for kind, n in deltas.items()),
        key=lambda item: -item[1],
    ) or [("-", 0)]
    return sum(deltas.values()), types


def _figures(soak: Soak) -> list[str]:
    """The report, one `soak.<name>: value unit (target: ...)` a line."""
    rigs = soak.rigs.values()
    good = [
        (rig, job)
        for rig in rigs
        for job, plan in rig.jobs.items()
        if plan.fail_at is None
    ]
    bad = [
        (rig, job)
        for rig in rigs
        for job, plan in rig.jobs.items()
        if plan.fail_at is not None
    ]
    spurious = sum(rig.pauses[job] + rig.stops[job] for rig, job in good)
    duplicates = sum(max(0, rig.pauses[job] + rig.stops[job] - 1) for rig, job in bad)
    missed = sum(1 for rig, job in bad if rig.pauses[job] == 0)
    latencies = [
        rig.pause_at[job] - (rig.jobs[job].fail_at or 0)
        for rig, job in bad
        if job in rig.pause_at
    ]
    by_category: dict[str, list[float]] = defaultdict(list)
    for run in soak.done:
        if run.recovered_after is not None:
            by_category[run.category].append(run.recovered_after)
    never = [
        r for r in soak.done if r.recovered_after is None and r.not_measurable is None
    ]
    late = [
        r
        for r in soak.done
        if r.recovered_after is not None and r.recovered_after > r.target
    ]
    kinds = {run.name for run in soak.done}
    secrets_logs = sum(soak.audit.secret_hits.values())
    secrets_diag = sum(soak.diagnostics_hits.values())
    objects, types = _object_growth(soak, "end")
    mid_objects, _ = _object_growth(soak, "mid")
    rss_growth = soak.memory_rss["end"] - soak.memory_rss["warm"]
    simulated_h = soak.t / 3600

    def worst(category: str) -> str:
        values = by_category.get(category, [])
        return f"{max(values):.0f}" if values else "n/a"

    lines = [
        f"soak.profile: {soak.profile.name} ({soak.profile.cycles} cycles, 2 printers)",
        f"soak.simulated_time: {simulated_h:.1f} h (target: hours of printing)",
        f"soak.wall_time: {soak.wall:.0f} s (target: ci < 90, long 120-240)",
        f"soak.speedup: {soak.t / max(soak.wall, 1e-9):.0f} x simulated/real",
        f"soak.prints: {len(good) + len(bad)} prints ({len(good)} good, {len(bad)} failing, "
        f"{sum(len(r.lost_jobs) for r in rigs)} lost to reboots)",
        f"soak.polls: {sum(r.requests for r in rigs)} printer requests, "
        f"{soak.checks[ALPHA]} openai checks, {soak.checks[BETA]} gadget checks, "
        f"{soak.uploads} connect uploads",
        f"soak.faults_injected: {len(soak.done)} faults of {len(kinds)} kinds "
        "(target: every kind, every cycle)",
        f"soak.unhandled_exceptions: {len(soak.audit.unhandled)} (target: 0)",
        f"soak.simulator_errors: {len(soak.audit.simulator_errors)} (target: 0, not the integration)",
        f"soak.stalled_steps: {len(soak.settler.stalls)} (target: 0; a task that never ends)",
        f"soak.spurious_actions: {spurious} pauses/stops on good prints (target: 0)",
        f"soak.duplicate_commands: {duplicates} (target: 0, one pause per failed print)",
        f"soak.missed_failures: {missed} of {len(bad)} (target: 0)",
        f"soak.failed_commands: {sum(sum(r.failed_commands.values()) for r in rigs)} "
        "(target: 0)",
        "soak.time_to_pause_max: "
        f"{max(latencies) if latencies else float('nan'):.0f} s from the first sign "
        "(target: informational)",
        f"soak.reauth_flows: {len(soak.reauth_flows)} "
        f"(target: {sum(1 for r in soak.done if r.name == 'printer_401')}, one per 401)",
        f"soak.connect_auth_issues: {soak.connect_issues} "
        f"(target: {sum(1 for r in soak.done if r.name == 'connect_401')}, one per 401)",
        f"soak.recovery_printer_max: {worst('printer')} s (target: next poll, "
        "<= interval + timeout + 1 step)",
        f"soak.recovery_camera_max: {worst('camera')} s (target: next check, "
        f"<= {CHECK_INTERVAL + 2 * STEP:.0f})",
        f"soak.recovery_detector_max: {worst('detector')} s (target: next check "
        "after any timeout/hold)",
        f"soak.recovery_connect_max: {worst('connect')} s (target: next upload "
        f"after back-off, <= {CONNECT_MAX_BACKOFF + CONNECT_INTERVAL + STEP:.0f})",
        f"soak.recovery_late: {len(late)} faults (target: 0)",
        f"soak.recovery_never: {len(never)} faults (target: 0)",
        f"soak.log_lines_per_fault_max: {max((r.log_lines for r in soak.done), default=0)} "
        "lines (target: one per affected component per outage)",
        f"soak.log_repeats_per_fault_max: {max((r.log_repeats for r in soak.done), default=0)} "
        "(target: 1, never once per poll)",
        f"soak.secrets_in_logs: {secrets_logs} in {soak.audit.records} records (target: 0)",
        f"soak.secrets_in_diagnostics: {secrets_diag} in {soak.diagnostics_dumps} dumps "
        "(target: 0)",
        f"soak.secrets_in_states: {sum(soak.state_hits.values())} (target: 0)",
        f"soak.memory_objects: {objects:+d} live objects warm-up->end "
        f"(mid {mid_objects:+d}; largest type {types[0][1]:+d} {types[0][0]}) "
        f"(target: < {OBJECT_BOUND}, no type > {TYPE_BOUND})",
        f"soak.memory_rss: {rss_growth / 1024 / 1024:+.1f} MiB warm-up->end "
        "(target: informational, allocator noise)",
    ]
    if soak.memory:
        traced = soak.memory["end"] - soak.memory["warm"]
        mid_traced = soak.memory.get("mid", soak.memory["warm"]) - soak.memory["warm"]
        lines.append(
            f"soak.memory_traced: {traced / 1024:+.0f} KiB warm-up->end "
            f"(mid {mid_traced / 1024:+.0f} KiB) (target: < {TRACED_BOUND // 1024} KiB)"
        )
    lines.extend(
        f"soak.memory_type: {delta:+d} {name}"
        for name, delta in types[:12]
        if delta > 0
    )
    if len(soak.snapshots) == 2:
        diff = soak.snapshots["end"].compare_to(soak.snapshots["warm"], "lineno")
        for stat in diff[:5]:
            frame = stat.traceback[0]
            where = frame.filename.split("site-packages/")[-1].split("/work/main/")[-1]
            lines.append(
                f"soak.memory_top: {stat.size_diff / 1024:+.0f} KiB "
                f"({stat.count_diff:+d} blocks) {where}:{frame.lineno}"
            )
    for run in soak.done:
        recovered = (
            f"{run.recovered_after:.0f} s"
            if run.recovered_after is not None
            else (f"n/a ({run.not_measurable})" if run.not_measurable else "never")
        )
        lines.append(
            f"soak.fault.{run.printer}.c{run.cycle}.{run.name}: recovered in {recovered} "
            f"(target: <= {run.target:.0f}), {run.log_lines} warning lines, "
            f"max repeat {run.log_repeats}"
            + (f" {run.templates}" if run.log_lines else "")
        )
    return lines


def _write_report(report: str, soak: Soak) -> None:
    out = Path(__file__).resolve().parents[2] / "out"
    out.mkdir(exist_ok=True)
    (out / "soak.txt").write_text(report + "\n", encoding="utf-8")
    if soak.holders:
        (out / "soak-holders.txt").write_text(
            "\n".join(soak.holders) + "\n", encoding="utf-8"
        )
    if len(soak.snapshots) != 2:
        return
    warm, end = soak.snapshots["warm"], soak.snapshots["end"]
    lines = ["# traced memory, end of warm-up cycle -> end of run", "", "## by file"]
    lines.extend(
        f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} {stat}"
        for stat in end.compare_to(warm, "filename")[:25]
    )
    lines += ["", "## by traceback (PRINT_SENTINEL_SOAK_FRAMES=12 for deeper ones)"]
    for stat in end.compare_to(warm, "traceback")[:15]:
        lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d}")
        lines.extend(f"    {line}" for line in stat.traceback.format())
    (out / "soak-memory.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
@pytest.mark.no_fail_on_log_exception
async def test_fault_injection_soak(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    alpha: PrusaLinkSimulator,
    beta: PrusaLinkSimulator,
    vision: OpenAISimulator,
    gadget: GadgetSimulator,
    connect: PrusaConnectSimulator,
) -> None:
    """Hours of printing through every fault: no crash, no wrong pause, no leak."""
    profile = _profile(os.environ.get("PRINT_SENTINEL_SOAK", "ci"))
    # asyncio's debug mode (on in every phcc test) records a traceback for every
    # callback and task: it triples the soak's run time, and the rest of the test
    # suite already runs in it. Its slow-callback warnings would also fire on every
    # step, the frozen clock jumping by STEP inside the test's own task.
    loop = asyncio.get_running_loop()
    loop.set_debug(False)
    # tracemalloc doubles the run time: the long profile traces bytes, CI counts
    # live objects only (PRINT_SENTINEL_SOAK_FRAMES=N traces any profile)
    default_frames = "1" if profile.name == "long" else "0"
    frames = int(os.environ.get("PRINT_SENTINEL_SOAK_FRAMES", default_frames))
    if frames:
        tracemalloc.start(frames)
    root = logging.getLogger()
    package = logging.getLogger("custom_components.print_sentinel")
    saved_levels = {handler: handler.level for handler in root.handlers}
    saved_package_level = package.level
    # pytest's handlers keep every record they capture, and a record keeps its
    # arguments: each outage's exception, its traceback and frames. The audit
    # handler reads each record once and keeps none.
    for handler in root.handlers:
        handler.setLevel(logging.CRITICAL + 1)
    package.setLevel(logging.DEBUG)

    alpha_entry = _entry(alpha, ALPHA_SERIAL, ALPHA_PASSWORD, NAMES[ALPHA])
    beta_entry = _entry(beta, BETA_SERIAL, BETA_PASSWORD, NAMES[BETA])
    rigs = {
        key: PrinterRig(
            key=key,
            sim=sim,
            entry=entry,
            password=password,
            serial=serial,
            plan=[
                (cycle, index, job)
                for cycle in range(profile.cycles)
                for index, job in enumerate(profile.jobs[key])
            ],
        )
        for key, sim, entry, password, serial in (
            (ALPHA, alpha, alpha_entry, ALPHA_PASSWORD, ALPHA_SERIAL),
            (BETA, beta, beta_entry, BETA_PASSWORD, BETA_SERIAL),
        )
    }
    soak = Soak(hass, freezer, profile, rigs, vision, gadget, connect)
    root.addHandler(soak.audit)
    try:
        alpha_entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            alpha_entry,
            options={
                **_detection_options(alpha),
                CONF_DETECTOR: "openai",
                CONF_OPENAI_API_KEY: OPENAI_KEY,
                CONF_OPENAI_BASE_URL: vision.url,
            },
        )
        beta_entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            beta_entry,
            options={
                **_detection_options(beta),
                CONF_DETECTOR: "gadget",
                CONF_GADGET_API_KEY: GADGET_KEY,
                CONF_GADGET_URL: gadget.url,
            },
        )
        # setting up the integration sets up both entries
        assert await hass.config_entries.async_setup(alpha_entry.entry_id)
        await hass.async_block_till_done()
        assert beta_entry.state is ConfigEntryState.LOADED
        camera = er.async_get(hass).async_get_entity_id(
            "camera", DOMAIN, f"{ALPHA_SERIAL}_camera"
        )
        assert camera is not None
        hass.config_entries.async_update_entry(
            alpha_entry,
            options={
                **alpha_entry.options,
                CONF_CONNECT_ENABLED: True,
                CONF_CONNECT_TOKEN: CONNECT_TOKEN,
                CONF_CONNECT_FINGERPRINT: CONNECT_FINGERPRINT,
                CONF_CONNECT_CAMERA: camera,
                CONF_CONNECT_URL: connect.url,
            },
        )
        assert await hass.config_entries.async_reload(alpha_entry.entry_id)
        await hass.async_block_till_done()
        assert alpha_entry.runtime_data.connect_uploader is not None

        def on_detection(event: Event) -> None:
            for rig in rigs.values():
                if event.data["entry_id"] == rig.entry.entry_id and rig.job_id:
                    rig.events[(rig.job_id, event.data["level"])] += 1

        unsub = hass.bus.async_listen(EVENT_DETECTION, on_detection)
        await soak.run()
        unsub()
        for entry in (alpha_entry, beta_entry):
            if entry.state is ConfigEntryState.LOADED:
                assert await hass.config_entries.async_unload(entry.entry_id)
        await soak.settle()
    finally:
        root.removeHandler(soak.audit)
        for handler, level in saved_levels.items():
            handler.setLevel(level)
        package.setLevel(saved_package_level)
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        soak.settler.close()

    lines = _figures(soak)
    report = "\n".join(lines)
    print("\n" + report)
    _write_report(report, soak)

    problems = [
        *(f"unhandled: {line}" for line in soak.audit.unhandled),
        *(f"stalled: {line}" for line in soak.settler.stalls),
        *(
            f"secret in logs: {label} ({logger})"
            for label, logger in soak.audit.secret_hits
        ),
        *(f"secret in diagnostics: {label}" for label in soak.diagnostics_hits),
        *(f"secret in states: {label}" for label in soak.state_hits),
    ]
    for rig in rigs.values():
        for job, plan in rig.jobs.items():
            acted = rig.pauses[job] + rig.stops[job]
            if plan.fail_at is None and acted:
                problems.append(f"{rig.key} job {job}: good print acted on {acted}x")
            if plan.fail_at is not None and acted != 1:
                problems.append(f"{rig.key} job {job}: failing print acted on {acted}x")
        if rig.failed_commands:
            problems.append(f"{rig.key}: failed commands {dict(rig.failed_commands)}")
    for run in soak.done:
        where = f"{run.printer} c{run.cycle} {run.name}"
        if run.recovered_after is None and run.not_measurable is None:
            problems.append(f"{where}: never recovered")
        elif run.recovered_after is not None and run.recovered_after > run.target:
            problems.append(
                f"{where}: recovered in {run.recovered_after:.0f} s > {run.target:.0f} s"
            )
        if run.log_repeats > 1:
            problems.append(f"{where}: a warning repeated: {run.templates}")
    if len(soak.reauth_flows) != sum(1 for r in soak.done if r.name == "printer_401"):
        problems.append(f"reauth flows: {len(soak.reauth_flows)}")
    if soak.connect_issues != sum(1 for r in soak.done if r.name == "connect_401"):
        problems.append(f"connect auth issues: {soak.connect_issues}")
    objects, types = _object_growth(soak, "end")
    if objects > OBJECT_BOUND or types[0][1] > TYPE_BOUND:
        problems.append(f"objects grew by {objects}: {types[:5]}")
    if soak.memory and soak.memory["end"] - soak.memory["warm"] > TRACED_BOUND:
        traced = soak.memory["end"] - soak.memory["warm"]
        problems.append(f"traced memory grew {traced / 1024:.0f} KiB")
    assert not problems, "\n".join(problems)
