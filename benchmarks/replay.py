"""Replay the corpus through every policy: how fast, how often wrong, how calm.

Every scenario kind of `benchmarks.corpus` is drawn for each seed, seen by both
detector styles at each check interval, and replayed through every policy (the
default `sentinel` and the anchors `two_yes`, `printwatch`, `gadget`, `obico`) at
every sensitivity. The simulated user resumes a false pause after
`corpus.USER_RESPONSE` seconds (telling the policy it was its own pause), and
every policy gets the same resume grace (`DEFAULT_RESUME_GRACE`), so rules are
compared with rules.

Figures per policy x sensitivity x interval:

- seconds from the onset to a failure decision: median and p90, for sudden and
  gradual failures and all of them (a decision after the failure began but before
  its onset counts as 0 s; a miss counts as never);
- the same to a warning (or failure);
- misses: failures not decided within `corpus.MISS_AFTER` seconds of the onset;
- false failure decisions per 100 good print-hours (good prints, and failures
  before they begin) and false warnings per good print-hour;
- re-pauses per print after the user resumed a false pause whose cause stays in
  view, and after a fixed failure.

Run: `python -m benchmarks.replay [--seeds N] [--seed S] [--interval S]
[--scenario NAME ...] [--check] [--write-readme]`; `--via client` also replays a few
seeds through the loopback OpenAI simulator and the real client.
"""

from __future__ import annotations

import argparse
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
import dataclasses
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import sys
import time

from custom_components.print_sentinel.const import DEFAULT_RESUME_GRACE
from custom_components.print_sentinel.detection.policy import (
    POLICIES,
    SENSITIVITIES,
    Decision,
    Observation,
    Policy,
    make_policy,
)
from custom_components.print_sentinel.detection.scheduler import next_check_delay
from custom_components.print_sentinel.detection.verdict import Verdict

from . import corpus, readme
from .corpus import (
    FAILURE,
    GOOD,
    HOUR,
    INTERVALS,
    KINDS,
    MISS_AFTER,
    RESUME_FALSE,
    RESUME_FIXED,
    STYLES,
    USER_RESPONSE,
    Kind,
    Stream,
)

DEFAULT = "sentinel"
ANCHORS: tuple[str, ...] = tuple(name for name in POLICIES if name != DEFAULT)
SENSITIVE: frozenset[str] = frozenset({"sentinel", "obico"})
"""Policies whose rule depends on the sensitivity (the others ignore it)."""
SEEDS = 30
TARGET_INTERVAL = 20.0
TARGET_SENSITIVITY = "medium"
TABLE = readme.Table("replay", "scripts/bench replay --write-readme")


@dataclass(frozen=True, kw_only=True)
class Targets:
    """What the default must reach at 20 s and medium sensitivity."""

    false_pauses_per_100h: float = 10.0
    missed_share: float = 0.03
    sudden_median: float = 60.0
    gradual_median: float = 120.0
    p90: float = 240.0
    re_pauses_per_print: float = 0.5


TARGETS = Targets()


@dataclass
class Outcome:
    """What one policy did in one print."""

    group: str
    pace: str = "sudden"
    good_seconds: float = 0.0
    false_pauses: int = 0
    false_warnings: int = 0
    decided: float | None = None
    """Seconds from the onset to the failure decision (None: missed)."""
    warned: float | None = None
    re_pauses: int = 0


def _fixed(
    checks: Iterable[tuple[float, Observation]],
) -> Generator[tuple[float, Observation], float | None]:
    """`checks` as they are (a delay sent in is ignored)."""
    for check in checks:  # noqa: UP028 (`yield from` would forward the delay sent in)
        yield check


def simulate(policy: Policy, item: Stream, *, paced: bool = False) -> Outcome:
    """Replay one stream through one policy, with the simulated user.

    `paced`: the checks come when the integration's monitor would run them (sooner
    while a failure is suspected, `next_check_delay`), drawn afresh from the
    stream's kind, seed and style; otherwise at the stream's fixed interval."""
    plan = item.plan
    group = item.kind.group
    outcome = Outcome(group=group, pace=plan.pace)
    started = plan.started
    onset = plan.onset
    if group == GOOD:
        good_until = plan.duration
    elif group == RESUME_FALSE:
        good_until = plan.resume_at if plan.resume_at is not None else 0.0
    else:
        good_until = started if started is not None else plan.duration
    outcome.good_seconds = good_until

    state = policy.on_new_print(0.0)
    previous = Decision.OK
    paused_until: float | None = None
    resume_at = plan.resume_at
    resumed = False
    detected = False
    checks = (
        corpus.paced(item.kind, item.seed, item.interval, item.style)
        if paced
        else _fixed(item.checks)
    )
    delay: float | None = None
    while True:
        try:
            now, observation = checks.send(delay)
        except StopIteration:
            break
        delay = None  # the interval, unless the verdict brings the next check forward
        if resume_at is not None and not resumed and now >= resume_at:
            own = group == RESUME_FALSE or detected
            state = policy.on_resume(state, resume_at, own_pause=own)
            resumed, paused_until, previous = True, None, Decision.OK
        if paused_until is not None:
            if now < paused_until:
                continue
            state = policy.on_resume(state, paused_until, own_pause=True)
            paused_until, previous = None, Decision.OK
        state, decision = policy.step(state, observation, now)
        if isinstance(observation, Verdict):
            delay = next_check_delay(item.interval, decision, observation)
        good = now < good_until and not resumed
        if decision is Decision.WARNING and previous is Decision.OK and good:
            outcome.false_warnings += 1
        if (
            onset is not None
            and not resumed
            and outcome.warned is None
            and decision is not Decision.OK
            and started is not None
            and now >= started
        ):
            outcome.warned = max(0.0, now - onset)
        previous = decision
        if decision is not Decision.FAILURE:
            continue
        if resumed:
            outcome.re_pauses += 1
            paused_until = now + USER_RESPONSE
        elif good:
            outcome.false_pauses += 1
            paused_until = now + USER_RESPONSE
        else:
            detected = True
            assert onset is not None
            outcome.decided = max(0.0, now - onset)
            if group == FAILURE or resume_at is None:
                break
            paused_until = math.inf  # until the user has fixed it
    # tenths of a second are plenty, and keep the stored results small
    outcome.good_seconds = round(outcome.good_seconds, 1)
    if outcome.decided is not None:
        outcome.decided = (
            None if outcome.decided > MISS_AFTER else round(outcome.decided, 1)
        )
    if outcome.warned is not None:
        outcome.warned = (
            None if outcome.warned > MISS_AFTER else round(outcome.warned, 1)
        )
    return outcome


# --- contenders and runs ---------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    """A policy at a sensitivity."""

    name: str
    sensitivity: str

    @property
    def label(self) -> str:
        """`name@sensitivity`."""
        return f"{self.name}@{self.sensitivity}"

    def build(self) -> Policy:
        """The policy, with the shared resume grace."""
        return make_policy(self.name, self.sensitivity, DEFAULT_RESUME_GRACE)


def contenders(names: Iterable[str] = POLICIES) -> list[Contender]:
    """Every policy at every sensitivity it uses (the others once, at medium)."""
    out: list[Contender] = []
    for name in names:
        levels = SENSITIVITIES if name in SENSITIVE else ("medium",)
        out.extend(Contender(name, level) for level in levels)
    return out


@dataclass
class Tally:
    """Outcomes of one contender at one interval, folded."""

    prints: int = 0
    good_seconds: float = 0.0
    false_pauses: int = 0
    false_warnings: int = 0
    sudden: list[float | None] = field(default_factory=list)
    gradual: list[float | None] = field(default_factory=list)
    subtle: list[float | None] = field(default_factory=list)
    warnings: list[float | None] = field(default_factory=list)
    resume_false_prints: int = 0
    resume_false_pauses: int = 0
    resume_fixed_prints: int = 0
    resume_fixed_pauses: int = 0

    def add(self, outcome: Outcome) -> None:
        """Fold one print in."""
        self.prints += 1
        self.good_seconds += outcome.good_seconds
        self.false_pauses += outcome.false_pauses
        self.false_warnings += outcome.false_warnings
        if outcome.group in (FAILURE, RESUME_FIXED):
            self.by_pace(outcome.pace).append(outcome.decided)
            self.warnings.append(outcome.warned)
        if outcome.group == RESUME_FALSE:
            self.resume_false_prints += 1
            self.resume_false_pauses += outcome.re_pauses
        elif outcome.group == RESUME_FIXED:
            self.resume_fixed_prints += 1
            self.resume_fixed_pauses += outcome.re_pauses

    def merge(self, other: Tally) -> None:
        """Fold another tally in."""
        self.prints += other.prints
        self.good_seconds += other.good_seconds
        self.false_pauses += other.false_pauses
        self.false_warnings += other.false_warnings
        self.sudden += other.sudden
        self.gradual += other.gradual
        self.subtle += other.subtle
        self.warnings += other.warnings
        self.resume_false_prints += other.resume_false_prints
        self.resume_false_pauses += other.resume_false_pauses
        self.resume_fixed_prints += other.resume_fixed_prints
        self.resume_fixed_pauses += other.resume_fixed_pauses

    def by_pace(self, pace: str) -> list[float | None]:
        """Seconds to decision of the failures of one pace."""
        match pace:
            case "sudden":
                return self.sudden
            case "gradual":
                return self.gradual
            case _:
                return self.subtle

    # figures

    @property
    def failures(self) -> list[float | None]:
        """Seconds to decision of every failure (None: missed)."""
        return self.sudden + self.gradual + self.subtle

    @property
    def missed_share(self) -> float:
        """Share of failures not decided within MISS_AFTER of the onset."""
        failures = self.failures
        return sum(t is None for t in failures) / len(failures) if failures else 0.0

    @property
    def false_pauses_per_100h(self) -> float:
        """False failure decisions per 100 good print-hours."""
        hours = self.good_seconds / HOUR
        return 100 * self.false_pauses / hours if hours else 0.0

    @property
    def false_warnings_per_hour(self) -> float:
        """False warnings per good print-hour."""
        hours = self.good_seconds / HOUR
        return self.false_warnings / hours if hours else 0.0

    @property
    def re_pauses_false(self) -> float:
        """Re-pauses per print after the user resumed a false pause."""
        return self.resume_false_pauses / max(self.resume_false_prints, 1)

    @property
    def re_pauses_fixed(self) -> float:
        """Re-pauses per print after the user resumed a fixed failure."""
        return self.resume_fixed_pauses / max(self.resume_fixed_prints, 1)


def percentile(values: Sequence[float | None], share: float) -> float | None:
    """The `share` percentile (nearest rank) with None as infinitely late."""
    if not values:
        return None
    ordered = sorted(math.inf if v is None else v for v in values)
    rank = max(0, math.ceil(share * len(ordered)) - 1)
    value = ordered[rank]
    return None if math.isinf(value) else value


@dataclass(frozen=True)
class Job:
    """One worker's share: an interval, a style and some seeds."""

    interval: float
    style: str
    seeds: tuple[int, ...]
    kinds: tuple[str, ...]
    players: tuple[Contender, ...]


def run_job(job: Job) -> tuple[float, dict[str, dict[int, Tally]]]:
    """Replay a job's streams through its contenders; tallies per label and seed."""
    policies = [(c.label, c.build()) for c in job.players]
    tallies: dict[str, dict[int, Tally]] = {label: {} for label, _ in policies}
    chosen = [corpus.kind_named(name) for name in job.kinds]
    for seed in job.seeds:
        for label, _ in policies:
            tallies[label][seed] = Tally()
        for item in chosen:
            generated = corpus.stream(item, seed, job.interval, job.style)
            for label, policy in policies:
                tallies[label][seed].add(simulate(policy, generated, paced=True))
    return job.interval, tallies


@dataclass
class Report:
    """Tallies per interval and contender label (and per seed, `by_seed`)."""

    tallies: dict[float, dict[str, Tally]]
    seeds: tuple[int, ...]
    kinds: tuple[Kind, ...]
    players: tuple[Contender, ...]
    elapsed: float = 0.0
    by_seed: dict[float, dict[str, dict[int, Tally]]] = field(default_factory=dict)

    def tally(self, interval: float, name: str, sensitivity: str) -> Tally:
        """A contender's tally (policies that ignore sensitivity: their only one)."""
        level = sensitivity if name in SENSITIVE else "medium"
        return self.tallies[interval][f"{name}@{level}"]


def run(
    *,
    seeds: Sequence[int],
    intervals: Sequence[float] = INTERVALS,
    kinds: Sequence[Kind] = KINDS,
    players: Sequence[Contender] | None = None,
    workers: int | None = None,
) -> Report:
    """Replay everything chosen; `workers` processes (default: up to 2)."""
    started = time.perf_counter()
    chosen_players = tuple(players if players is not None else contenders())
    names = tuple(k.name for k in kinds)
    jobs = [
        Job(interval, style, tuple(seeds[i::2]), names, chosen_players)
        for interval in intervals
        for style in STYLES
        for i in range(2)
        if seeds[i::2]
    ]
    by_seed: dict[float, dict[str, dict[int, Tally]]] = {
        interval: {c.label: {} for c in chosen_players} for interval in intervals
    }
    count = workers if workers is not None else min(2, os.cpu_count() or 1)
    if count <= 1:
        results: Iterable[tuple[float, dict[str, dict[int, Tally]]]] = map(
            run_job, jobs
        )
    else:
        pool = ProcessPoolExecutor(max_workers=count)
        results = pool.map(run_job, jobs)
    for interval, partial in results:
        for label, per_seed in partial.items():
            for seed, tally in per_seed.items():
                by_seed[interval][label].setdefault(seed, Tally()).merge(tally)
    if count > 1:
        pool.shutdown()
    return assemble(
        by_seed,
        seeds=tuple(seeds),
        kinds=tuple(kinds),
        players=chosen_players,
        elapsed=time.perf_counter() - started,
    )


def assemble(
    by_seed: dict[float, dict[str, dict[int, Tally]]],
    *,
    seeds: tuple[int, ...],
    kinds: tuple[Kind, ...],
    players: tuple[Contender, ...],
    elapsed: float = 0.0,
) -> Report:
    """A report from per-seed tallies (summed in seed order)."""
    tallies: dict[float, dict[str, Tally]] = {}
    for interval, labels in by_seed.items():
        tallies[interval] = {}
        for label, per_seed in labels.items():
            total = Tally()
            for seed in sorted(per_seed):
                total.merge(per_seed[seed])
            tallies[interval][label] = total
    return Report(
        tallies=tallies,
        seeds=seeds,
        kinds=kinds,
        players=players,
        elapsed=elapsed,
        by_seed=by_seed,
    )


# --- stored results --------------------------------------------------------------

RESULTS = Path(__file__).resolve().parent / "results" / "replay.json"
"""The full run's per-seed tallies at 20 s (`--write-readme`), from which the
README's table is generated; a test regenerates the table from it and replays a
few seeds to check the stored tallies still match the code."""


def tally_as_dict(tally: Tally) -> dict[str, object]:
    """A tally as JSON-friendly data."""
    return dataclasses.asdict(tally)


def tally_from_dict(data: dict[str, object]) -> Tally:
    """A tally from `tally_as_dict` data."""
    return Tally(**data)  # type: ignore[arg-type]


def store_results(report: Report, path: Path = RESULTS) -> None:
    """Write the report's per-seed tallies at the target interval."""
    per_label = report.by_seed[TARGET_INTERVAL]
    data = {
        "interval": TARGET_INTERVAL,
        "seeds": list(report.seeds),
        "kinds": [k.name for k in report.kinds],
        "players": [[c.name, c.sensitivity] for c in report.players],
        "tallies": {
            label: {str(seed): tally_as_dict(t) for seed, t in sorted(seeds.items())}
            for label, seeds in per_label.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n", "utf-8"
    )


def load_results(path: Path = RESULTS) -> Report:
    """The stored run, as a report at the target interval."""
    data = json.loads(path.read_text("utf-8"))
    interval = float(data["interval"])
    by_seed = {
        interval: {
            label: {int(seed): tally_from_dict(t) for seed, t in seeds.items()}
            for label, seeds in data["tallies"].items()
        }
    }
    return assemble(
        by_seed,
        seeds=tuple(data["seeds"]),
        kinds=tuple(corpus.kind_named(name) for name in data["kinds"]),
        players=tuple(Contender(name, level) for name, level in data["players"]),
    )


# --- output ----------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f}"


def _at(values: Sequence[float | None], share: float) -> str:
    """A percentile as printed: n/a without values, never if it is a miss."""
    return _s(percentile(values, share)) if values else "n/a"


def _pair(values: Sequence[float | None]) -> str:
    if not values:
        return "n/a"
    return f"{_at(values, 0.5)}/{_at(values, 0.9)}"


def row(tally: Tally) -> list[str]:
    """One table row's figures for a tally."""
    return [
        _pair(tally.sudden),
        _pair(tally.gradual),
        _pair(tally.subtle),
        _pair(tally.failures),
        _pair(tally.warnings),
        f"{100 * tally.missed_share:.1f}",
        f"{tally.false_pauses_per_100h:.1f}",
        f"{tally.false_warnings_per_hour:.2f}",
        f"{tally.re_pauses_false:.2f}",
        f"{tally.re_pauses_fixed:.2f}",
    ]


COLUMNS = (
    "sudden s",
    "gradual s",
    "subtle s",
    "all s",
    "warning s",
    "missed %",
    "false pauses /100 h",
    "false warnings /h",
    "re-pauses (false)",
    "re-pauses (fixed)",
)
"""Table columns after interval, sensitivity, policy (s: median/p90 from onset)."""


def describe(report: Report) -> list[str]:
    """The header lines: what was replayed."""
    groups = {g: sum(k.group == g for k in report.kinds) for g in (GOOD, FAILURE)}
    resumes = len(report.kinds) - groups[GOOD] - groups[FAILURE]
    seeds = report.seeds
    seed_text = (
        f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]})"
        if len(seeds) > 1
        else f"seed {seeds[0]}"
    )
    intervals = "/".join(f"{i:g}" for i in report.tallies)
    return [
        f"# replay: {len(report.kinds)} scenario kinds ({groups[GOOD]} good, "
        f"{groups[FAILURE]} failures, {resumes} resumes) x {seed_text} x "
        f"{len(STYLES)} detector styles ({', '.join(STYLES)}), a check every "
        f"{intervals} s; verdicts generated frame by frame (benchmarks.corpus)",
        f"# every policy: the same {DEFAULT_RESUME_GRACE:g} s resume grace; the user "
        f"resumes a false pause after {USER_RESPONSE:g} s; miss = no decision within "
        f"{MISS_AFTER:g} s of the onset; s = median/p90 seconds from the onset",
        "# two_yes, printwatch and gadget ignore the sensitivity (one row each)",
    ]


def table(report: Report) -> list[str]:
    """The metrics table, fixed-width, one row per interval x sensitivity x policy."""
    header = ["interval", "sensitivity", "policy", *COLUMNS]
    rows = [header]
    for interval in report.tallies:
        for sensitivity in SENSITIVITIES:
            for contender in report.players:
                if contender.sensitivity != (
                    sensitivity if contender.name in SENSITIVE else "medium"
                ):
                    continue
                if contender.name not in SENSITIVE and sensitivity != "medium":
                    continue
                tally = report.tally(interval, contender.name, sensitivity)
                rows.append(
                    [f"{interval:g} s", sensitivity, contender.name, *row(tally)]
                )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]


def target_problems(report: Report) -> list[str]:
    """What the default misses of its targets at 20 s, medium (empty: all met)."""
    if TARGET_INTERVAL not in report.tallies:
        return ["no 20 s run"]
    tally = report.tally(TARGET_INTERVAL, DEFAULT, TARGET_SENSITIVITY)
    problems = []
    if tally.false_pauses_per_100h > TARGETS.false_pauses_per_100h:
        problems.append("false pauses")
    if tally.missed_share > TARGETS.missed_share:
        problems.append("misses")
    checks = (
        ("sudden median", tally.sudden, 0.5, TARGETS.sudden_median),
        ("gradual median", tally.gradual, 0.5, TARGETS.gradual_median),
        ("p90", tally.failures, 0.9, TARGETS.p90),
    )
    for name, values, share, limit in checks:
        if not values:
            continue
        value = percentile(values, share)
        if value is None or value > limit:
            problems.append(name)
    if tally.re_pauses_false > TARGETS.re_pauses_per_print:
        problems.append("re-pauses")
    return problems


def target_lines(report: Report) -> list[str]:
    """`name: value unit (anchor: value, ...)` lines for the default's targets."""
    if TARGET_INTERVAL not in report.tallies:
        return []
    ours = report.tally(TARGET_INTERVAL, DEFAULT, TARGET_SENSITIVITY)
    anchors = {
        name: report.tally(TARGET_INTERVAL, name, TARGET_SENSITIVITY)
        for name in ANCHORS
        if any(c.name == name for c in report.players)
    }

    def line(key: str, value: str, unit: str, limit: str, figure: str) -> str:
        theirs = "; ".join(
            f"{name}: {getattr_figure(t, figure)}" for name, t in anchors.items()
        )
        theirs = f"; {theirs}" if theirs else ""
        return f"replay.{key}: {value} {unit} (target {limit}{theirs})"

    return [
        line(
            "false_pauses_per_100h",
            f"{ours.false_pauses_per_100h:.1f}",
            "count",
            f"<= {TARGETS.false_pauses_per_100h:g}",
            "false_pauses_per_100h",
        ),
        line(
            "missed",
            f"{100 * ours.missed_share:.1f}",
            "%",
            f"<= {100 * TARGETS.missed_share:g}",
            "missed",
        ),
        line(
            "sudden_median",
            _at(ours.sudden, 0.5),
            "s",
            f"<= {TARGETS.sudden_median:g}",
            "sudden_median",
        ),
        line(
            "gradual_median",
            _at(ours.gradual, 0.5),
            "s",
            f"<= {TARGETS.gradual_median:g}",
            "gradual_median",
        ),
        line(
            "p90",
            _at(ours.failures, 0.9),
            "s",
            f"<= {TARGETS.p90:g}",
            "p90",
        ),
        line(
            "re_pauses_after_false_pause",
            f"{ours.re_pauses_false:.2f}",
            "per print",
            f"<= {TARGETS.re_pauses_per_print:g}",
            "re_pauses_false",
        ),
    ]


def getattr_figure(tally: Tally, figure: str) -> str:
    """One anchor figure, formatted like ours."""
    match figure:
        case "false_pauses_per_100h":
            return f"{tally.false_pauses_per_100h:.1f}"
        case "missed":
            return f"{100 * tally.missed_share:.1f}"
        case "sudden_median":
            return _at(tally.sudden, 0.5)
        case "gradual_median":
            return _at(tally.gradual, 0.5)
        case "p90":
            return _at(tally.failures, 0.9)
        case _:
            return f"{tally.re_pauses_false:.2f}"


def format_report(report: Report) -> list[str]:
    """Everything `scripts/bench replay` prints."""
    problems = target_problems(report)
    lines = [*describe(report), *table(report), *target_lines(report)]
    if TARGET_INTERVAL in report.tallies:
        lines.append(
            f"replay.target_met: {'yes' if not problems else 'no'} bool"
            + (f" ({', '.join(problems)})" if problems else "")
        )
    lines.append(f"replay.elapsed: {report.elapsed:.1f} s")
    return lines


# --- README ----------------------------------------------------------------------

_NAMES = {
    "sentinel": "**Sentinel**",
    "two_yes": "Two failures in a row",
    "printwatch": "PrintWatch buffer",
    "gadget": "Detector's suggestion",
    "obico": "Obico's rule",
}


def readme_table(report: Report) -> list[str]:
    """The README's markdown table: every policy and sensitivity at 20 s."""
    seeds = len(report.seeds)
    lines = [
        f"{len(report.kinds)} scenario kinds x {seeds} seeds x {len(STYLES)} detector "
        f"styles, a check every {TARGET_INTERVAL:g} s: median/p90 seconds from the "
        "onset to the pause (sudden, gradual, subtle failures, all), failures not "
        f"paused within {MISS_AFTER / 60:g} minutes, false pauses per 100 good "
        "print-hours, false warnings per good print-hour, re-pauses per print after "
        "resuming a false pause whose cause stays in view. Targets for the default: "
        f"sudden <= {TARGETS.sudden_median:g} s, gradual <= "
        f"{TARGETS.gradual_median:g} s, p90 <= {TARGETS.p90:g} s, missed <= "
        f"{100 * TARGETS.missed_share:g} %, false pauses <= "
        f"{TARGETS.false_pauses_per_100h:g}, re-pauses <= "
        f"{TARGETS.re_pauses_per_print:g}.",
        "",
        "| Policy | Sensitivity | Sudden | Gradual | Subtle | All | Missed | "
        "False pauses | False warnings /h | Re-pauses |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for contender in report.players:
        if TARGET_INTERVAL not in report.tallies:
            break
        tally = report.tallies[TARGET_INTERVAL][contender.label]
        level = contender.sensitivity if contender.name in SENSITIVE else "any"
        lines.append(
            f"| {_NAMES.get(contender.name, contender.name)} | {level} | "
            f"{_pair(tally.sudden)} | {_pair(tally.gradual)} | {_pair(tally.subtle)} | "
            f"{_pair(tally.failures)} | "
            f"{100 * tally.missed_share:.1f} % | {tally.false_pauses_per_100h:.1f} | "
            f"{tally.false_warnings_per_hour:.2f} | {tally.re_pauses_false:.2f} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures; --check: 1 if a target fails."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds 0..N-1")
    parser.add_argument("--seed", type=int, nargs="*", help="only these seeds")
    parser.add_argument("--interval", type=float, nargs="*", help="only these")
    parser.add_argument("--scenario", nargs="*", help="only these scenario kinds")
    parser.add_argument("--policy", nargs="*", choices=POLICIES, help="only these")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--check", action="store_true", help="exit 1 on a miss")
    parser.add_argument(
        "--write-readme",
        "--readme",
        dest="readme",
        action="store_true",
        help="full run only: store the results and write the README's replay table",
    )
    parser.add_argument(
        "--via",
        choices=("stream", "client"),
        default="stream",
        help="client: also replay a few seeds through the real client",
    )
    args = parser.parse_args(argv)
    narrowed = args.seed or args.interval or args.scenario or args.policy
    if args.readme and (narrowed or args.seeds != SEEDS):
        parser.error(
            "--write-readme takes the full run (no --seed(s), --interval, "
            "--scenario or --policy)"
        )
    seeds = tuple(args.seed) if args.seed else tuple(range(args.seeds))
    intervals = tuple(args.interval) if args.interval else INTERVALS
    kinds = tuple(k for k in KINDS if not args.scenario or k.name in set(args.scenario))
    if not kinds:
        parser.error("no such scenario kind")
    players = contenders(args.policy or POLICIES)
    report = run(
        seeds=seeds,
        intervals=intervals,
        kinds=kinds,
        players=players,
        workers=args.workers,
    )
    sys.stdout.write("\n".join(format_report(report)) + "\n")
    if args.readme:
        store_results(report)
        TABLE.write(readme_table(load_results()))
    if args.via == "client":
        from .corpus_client import main as client_main

        client_main(
            kinds=kinds,
            seeds=tuple(args.seed) if args.seed else (0,),
            interval=intervals[0] if args.interval else TARGET_INTERVAL,
        )
    return 1 if args.check and target_problems(report) else 0


if __name__ == "__main__":
    sys.exit(main())
