"""What Print Sentinel costs the host, beside HA core's real `prusalink` integration.

Three figures, each beside an anchor:

- Import: a fresh Python process imports what Home Assistant has loaded anyway
  before an integration (`BASELINE`: HA core, its helpers, `http` and the entity
  components both integrations' platforms use), then the integration, its
  platforms and the preload platforms it has (`BASE_PRELOAD_PLATFORMS`: config
  flow, diagnostics, ...) are imported and timed (wall and CPU, median of
  `--runs`, the contenders taken in turn). Both run from bytecode compiled by the
  same interpreter into one temporary `PYTHONPYCACHEPREFIX` (a warm-up run writes
  it), so neither has warmer bytecode. `print_sentinel+openai` also imports the
  OpenAI SDK (`openai`), as a configured OpenAI-compatible detector does.
- `async_setup_entry`: one printer (a `PrusaLinkSimulator`, served on two ports)
  set up by each integration in one test Home Assistant, as `benchmarks/poll.py`
  sets them up (the integrations already imported), one after the other, in a new
  Home Assistant each of `--setup-runs` runs (the order alternates); median wall
  time. HA warns when a setup takes over `SLOW_SETUP_WARNING` (10 s).
- Frame preparation: the CPU time (`time.thread_time`) of
  `detection.frames.prepare_frame` (decode, orient, downscale, encode) for one
  1080p and one 4K camera JPEG (a rendered scene with camera noise, so decoding
  costs what a real image costs), to the long side of the OpenAI-compatible
  detector (256 px) and of the others (768 px), as a share of the default check
  interval (`DEFAULT_CHECK_INTERVAL`).

Lines are `name: value unit (anchor: value unit, ratio R)`; only the ratios are
meant for README.md. Run: `python -m benchmarks.host_cost [--runs 5] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
import io
import json
import logging
import os
from pathlib import Path
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any
from unittest.mock import MagicMock

from . import readme

ROOT = Path(__file__).resolve().parent.parent
OURS = "custom_components.print_sentinel"
CORE = "homeassistant.components.prusalink"
PREFIX = "host_cost"
RESULTS = ROOT / "benchmarks" / "results" / "host_cost.json"
TABLE = readme.Table("host", "scripts/bench host_cost --write-readme")
PASSWORD = "benchmark-Secret-pw"
USERNAME = "maker"
CONTENDERS = ("print_sentinel", "prusalink")
IMPORT_VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "print_sentinel": (OURS, ()),
    "print_sentinel+openai": (OURS, ("openai",)),
    "prusalink": (CORE, ()),
}
"""Variant -> (package, modules imported after it, in the timed window)."""
BASELINE = (
    "homeassistant.core",
    "homeassistant.config_entries",
    "homeassistant.const",
    "homeassistant.exceptions",
    "homeassistant.helpers.aiohttp_client",
    "homeassistant.helpers.config_validation",
    "homeassistant.helpers.device_registry",
    "homeassistant.helpers.entity",
    "homeassistant.helpers.entity_platform",
    "homeassistant.helpers.entity_registry",
    "homeassistant.helpers.event",
    "homeassistant.helpers.httpx_client",
    "homeassistant.helpers.issue_registry",
    "homeassistant.helpers.storage",
    "homeassistant.helpers.update_coordinator",
    "homeassistant.components.http",
    "homeassistant.components.binary_sensor",
    "homeassistant.components.button",
    "homeassistant.components.camera",
    "homeassistant.components.event",
    "homeassistant.components.image",
    "homeassistant.components.media_source",
    "homeassistant.components.sensor",
    "homeassistant.components.switch",
)
"""What Home Assistant has imported before it imports either integration."""
FRAME_SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}

IMPORT_SCRIPT = r"""
import importlib
import importlib.util
import json
import os
import sys
import time

baseline = sys.argv[1].split(",")
package_name = sys.argv[2]
extra = [name for name in sys.argv[3].split(",") if name]
for name in baseline:
    importlib.import_module(name)
from homeassistant.loader import BASE_PRELOAD_PLATFORMS

before = set(sys.modules)
wall, cpu = time.perf_counter(), time.process_time()
package = importlib.import_module(package_name)
wall_a, cpu_a = time.perf_counter() - wall, time.process_time() - cpu
folder = os.path.dirname(package.__file__)
present = set(os.listdir(folder))
platforms = [str(p) for p in package.PLATFORMS] + [
    p for p in BASE_PRELOAD_PLATFORMS if p + ".py" in present or p in present
]
wall, cpu = time.perf_counter(), time.process_time()
for name in platforms:
    importlib.import_module(package_name + "." + name)
for name in extra:
    importlib.import_module(name)
wall_b, cpu_b = time.perf_counter() - wall, time.process_time() - cpu
new = [sys.modules[name] for name in set(sys.modules) - before]
files = [m.__file__ for m in new if getattr(m, "__file__", None)]
sources = [f for f in files if f.endswith(".py")]
cached = sum(
    os.path.exists(importlib.util.cache_from_source(f)) for f in sources
)
print(json.dumps({
    "wall": wall_a + wall_b,
    "cpu": cpu_a + cpu_b,
    "platforms": platforms,
    "modules": len(new),
    "sources": len(sources),
    "cached": cached,
    "openai": "openai" in sys.modules,
}))
"""


@dataclass
class ImportRun:
    """One fresh process's import of one variant."""

    wall: float
    cpu: float
    platforms: list[str]
    modules: int
    sources: int
    cached: int
    openai: bool


@dataclass
class Results:
    """Every figure of one benchmark run."""

    imports: dict[str, list[ImportRun]] = field(default_factory=dict)
    setup: dict[str, list[float]] = field(default_factory=dict)
    frames: dict[str, FrameResult] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameResult:
    """The CPU to prepare one camera frame."""

    source: tuple[int, int]
    source_bytes: int
    long_side: int
    prepared: tuple[int, int]
    prepared_bytes: int
    cpu: float
    """Median seconds of CPU per frame."""


def _import_once(variant: str, env: dict[str, str]) -> ImportRun:
    package, extra = IMPORT_VARIANTS[variant]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_SCRIPT,
            ",".join(BASELINE),
            package,
            ",".join(extra),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {variant} failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return ImportRun(**data)


def measure_imports(runs: int) -> dict[str, list[ImportRun]]:
    """Time each variant's import in `runs` fresh processes, variants in turn."""
    out: dict[str, list[ImportRun]] = {name: [] for name in IMPORT_VARIANTS}
    with tempfile.TemporaryDirectory(prefix="host-cost-pyc-") as cache:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for variant in IMPORT_VARIANTS:  # warm-up: writes every module's bytecode
            _import_once(variant, env)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for _ in range(runs):
            for variant in IMPORT_VARIANTS:
                out[variant].append(_import_once(variant, env))
    return out


def _camera_jpeg(width: int, height: int, seed: int = 0) -> bytes:
    """A rendered print bed with sensor noise, as a camera's JPEG (quality 85)."""
    from PIL import Image

    from simulators.scene import Scene, render_frame

    scene = Image.open(io.BytesIO(render_frame(Scene(40, "spaghetti"), width, height)))
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    noisy = Image.blend(scene.convert("RGB"), noise, 0.12)
    out = io.BytesIO()
    noisy.save(out, format="JPEG", quality=85)
    return out.getvalue()


def measure_frames(repeats: int) -> dict[str, FrameResult]:
    """CPU of `prepare_frame` per frame size and long side (median of `repeats`)."""
    from datetime import UTC, datetime

    from custom_components.print_sentinel.const import (
        DEFAULT_LONG_SIDE,
        DETECTOR_LONG_SIDE,
        DETECTOR_OPENAI,
    )
    from custom_components.print_sentinel.detection.frames import prepare_frame

    sides = {
        "openai": DETECTOR_LONG_SIDE.get(DETECTOR_OPENAI, DEFAULT_LONG_SIDE),
        "others": DEFAULT_LONG_SIDE,
    }
    now = datetime.now(UTC)
    out: dict[str, FrameResult] = {}
    for size_name, (width, height) in FRAME_SIZES.items():
        jpeg = _camera_jpeg(width, height)
        for side in sorted(set(sides.values())):
            prepare_frame(jpeg, now, side)  # warm: Pillow's codecs loaded
            times: list[float] = []
            frame = None
            for _ in range(repeats):
                started = time.thread_time()
                frame = prepare_frame(jpeg, now, side)
                times.append(time.thread_time() - started)
            assert frame is not None
            out[f"{size_name}_to_{side}"] = FrameResult(
                source=(width, height),
                source_bytes=len(jpeg),
                long_side=side,
                prepared=(frame.width, frame.height),
                prepared_bytes=len(frame.jpeg),
                cpu=statistics.median(times),
            )
    return out


def _timed(
    original: Callable[..., Awaitable[bool]], name: str, sink: dict[str, list[float]]
) -> Callable[..., Awaitable[bool]]:
    async def timed(*args: Any, **kwargs: Any) -> bool:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            sink.setdefault(name, []).append(time.perf_counter() - started)

    return timed


async def setup_once(flavour: str, order: Sequence[str]) -> dict[str, float]:
    """Set up one printer with each integration in a new test HA; seconds each."""
    from homeassistant import loader
    from homeassistant.components import prusalink as core_module
    from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
    from homeassistant.setup import async_setup_component
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    import custom_components.print_sentinel as ours_module
    from custom_components.print_sentinel.const import (
        CONF_PRINTER_TYPE,
        PRINTER_TYPE_PRUSALINK,
    )
    from simulators.prusalink import PrusaLinkSimulator

    modules: dict[str, Any] = {"print_sentinel": ours_module, "prusalink": core_module}
    times: dict[str, list[float]] = {}
    originals = {name: module.async_setup_entry for name, module in modules.items()}
    with tempfile.TemporaryDirectory() as config_dir:
        sim = PrusaLinkSimulator(
            PASSWORD,
            flavour=flavour,
            serial="CZPX4720X004XC00001"
            if flavour == "mk3s"
            else "10589-3742441634500001",
        )
        await sim.start()
        core_url = await sim.add_listener()
        sim.advance(10)  # past the MK3S's start-up
        try:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                hass.config.components.add("http")  # no web server needed here
                hass.http = MagicMock()  # views register on nothing
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # find print_sentinel
                for name, module in modules.items():
                    module.async_setup_entry = _timed(originals[name], name, times)
                entries = {
                    "print_sentinel": MockConfigEntry(
                        domain="print_sentinel",
                        title="bench",
                        unique_id=sim.serial,
                        data={
                            CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
                            CONF_HOST: sim.url,
                            CONF_USERNAME: USERNAME,
                            CONF_PASSWORD: PASSWORD,
                        },
                    ),
                    "prusalink": MockConfigEntry(
                        domain="prusalink",
                        title="bench",
                        version=1,
                        minor_version=2,
                        data={
                            CONF_HOST: core_url,
                            CONF_USERNAME: USERNAME,
                            CONF_PASSWORD: PASSWORD,
                        },
                    ),
                }
                for entry in entries.values():
                    entry.add_to_hass(hass)
                for name in order:
                    if not await async_setup_component(hass, name, {}):
                        raise RuntimeError(f"{name} did not set up")
                    await hass.async_block_till_done()
                    if entries[name].state.value != "loaded":
                        raise RuntimeError(f"{name}: entry {entries[name].state}")
                for entry in entries.values():
                    await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
        finally:
            for name, module in modules.items():
                module.async_setup_entry = originals[name]
            await sim.stop()
    if set(times) != set(CONTENDERS) or any(len(v) != 1 for v in times.values()):
        raise RuntimeError(f"async_setup_entry ran unexpectedly: {times}")
    return {name: values[0] for name, values in times.items()}


async def measure_setup(runs: int, flavour: str) -> dict[str, list[float]]:
    """`setup_once` `runs` times, the order alternating; seconds per contender."""
    import custom_components.print_sentinel  # noqa: F401 - imported before timing

    out: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for run in range(runs):
        order = CONTENDERS if run % 2 == 0 else CONTENDERS[::-1]
        for name, seconds in (await setup_once(flavour, order)).items():
            out[name].append(seconds)
    return out


def run(
    runs: int = 5,
    setup_runs: int = 3,
    frame_repeats: int = 5,
    flavour: str = "mk4s",
) -> Results:
    """Measure every figure."""
    logging.disable(logging.WARNING)
    results = Results()
    results.frames = measure_frames(frame_repeats)
    results.setup = asyncio.run(measure_setup(setup_runs, flavour))
    results.imports = measure_imports(runs)
    return results


def _ratio(ours: float, anchor: float) -> str:
    if not anchor:
        return "ratio n/a"
    ratio = ours / anchor
    return f"ratio {ratio:.2f}" if ratio >= 0.1 else f"ratio {ratio:.2g}"


def _line(name: str, ours: float, label: str, anchor: float, unit: str) -> str:
    def value(x: float) -> str:
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"

    return (
        f"{PREFIX}.{name}: {value(ours)} {unit} "
        f"({label}: {value(anchor)} {unit}, {_ratio(ours, anchor)})"
    )


def figures(results: Results) -> dict[str, Any]:
    """The figures (ms), each [Print Sentinel, anchor], and what was counted."""
    from homeassistant.setup import SLOW_SETUP_WARNING

    from custom_components.print_sentinel.const import DEFAULT_CHECK_INTERVAL

    out: dict[str, Any] = {}
    imports = results.imports
    if imports:

        def median_ms(variant: str, attr: str) -> float:
            values: list[float] = [getattr(run, attr) for run in imports[variant]]
            return 1000 * statistics.median(values)

        for attr in ("wall", "cpu"):
            core = median_ms("prusalink", attr)
            out[f"import_{attr}_ms"] = [median_ms("print_sentinel", attr), core]
            out[f"import_with_openai_{attr}_ms"] = [
                median_ms("print_sentinel+openai", attr),
                core,
            ]
        out["import_runs"] = len(imports["prusalink"])
        for variant, key in (
            ("print_sentinel", "ours"),
            ("print_sentinel+openai", "ours_openai"),
            ("prusalink", "core"),
        ):
            last = imports[variant][-1]
            out[f"import_{key}"] = {
                "modules": last.modules,
                "sources": last.sources,
                "cached": last.cached,
                "openai": last.openai,
                "platforms": last.platforms,
            }
    if results.setup:
        ours_s = statistics.median(results.setup["print_sentinel"])
        core_s = statistics.median(results.setup["prusalink"])
        out["setup_entry_ms"] = [1000 * ours_s, 1000 * core_s]
        out["setup_entry_vs_warning_ms"] = [1000 * ours_s, 1000 * SLOW_SETUP_WARNING]
        out["setup_runs"] = len(results.setup["prusalink"])
    for name, frame in results.frames.items():
        out[f"frame_{name}_cpu_ms"] = [1000 * frame.cpu, 1000 * DEFAULT_CHECK_INTERVAL]
        out[f"frame_{name}"] = {
            "source": list(frame.source),
            "source_bytes": frame.source_bytes,
            "long_side": frame.long_side,
            "prepared": list(frame.prepared),
            "prepared_bytes": frame.prepared_bytes,
        }
    return out


def format_report(results: Results, flavour: str = "mk4s") -> list[str]:
    """The report lines."""
    data = figures(results)
    lines = [
        f"# {PREFIX}: what Print Sentinel costs the host beside HA core's "
        "prusalink; ratio = Print Sentinel / anchor"
    ]
    if "import_wall_ms" in data:
        runs = data["import_runs"]
        lines += [
            _line("import_ms", *_pair(data["import_wall_ms"], "core prusalink"), "ms"),
            _line(
                "import_cpu_ms", *_pair(data["import_cpu_ms"], "core prusalink"), "ms"
            ),
            _line(
                "import_with_openai_ms",
                *_pair(data["import_with_openai_wall_ms"], "core prusalink"),
                "ms",
            ),
            _line(
                "import_with_openai_cpu_ms",
                *_pair(data["import_with_openai_cpu_ms"], "core prusalink"),
                "ms",
            ),
            _line(
                "import_openai_share_ms",
                data["import_with_openai_wall_ms"][0] - data["import_wall_ms"][0],
                "Print Sentinel without openai",
                data["import_wall_ms"][0],
                "ms",
            ),
        ]
        for key, label in (
            ("ours", "Print Sentinel"),
            ("ours_openai", "Print Sentinel+openai"),
            ("core", "core prusalink"),
        ):
            info = data[f"import_{key}"]
            lines.append(
                f"# {PREFIX}.import {label}: median of {runs} fresh processes; "
                f"{info['modules']} modules beyond the baseline "
                f"({info['cached']}/{info['sources']} from bytecode), platforms "
                f"{', '.join(info['platforms'])}; openai imported: "
                f"{'yes' if info['openai'] else 'no'}"
            )
        lines.append(
            f"# {PREFIX}.import baseline (imported first, not timed): "
            f"{len(BASELINE)} modules, HA core, its helpers, http and the entity "
            "components"
        )
    if "setup_entry_ms" in data:
        lines += [
            _line(
                "setup_entry_ms", *_pair(data["setup_entry_ms"], "core prusalink"), "ms"
            ),
            _line(
                "setup_entry_vs_warning_ms",
                *_pair(data["setup_entry_vs_warning_ms"], "HA slow-setup warning"),
                "ms",
            ),
            f"# {PREFIX}.setup_entry: one {flavour} PrusaLinkSimulator printer, "
            f"median of {data['setup_runs']} test Home Assistants, "
            "integrations already imported",
        ]
    for name in results.frames:
        frame = data[f"frame_{name}"]
        lines.append(
            _line(
                f"frame_{name}.prepare_cpu_ms",
                *_pair(data[f"frame_{name}_cpu_ms"], "check interval"),
                "ms",
            )
        )
        lines.append(
            f"# {PREFIX}.frame_{name}: {frame['source'][0]}x{frame['source'][1]} "
            f"JPEG of {frame['source_bytes'] / 1024:.0f} KiB -> "
            f"{frame['prepared'][0]}x{frame['prepared'][1]} JPEG of "
            f"{frame['prepared_bytes'] / 1024:.0f} KiB"
        )
    return lines


def _pair(values: Sequence[float], label: str) -> tuple[float, str, float]:
    return values[0], label, values[1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="fresh processes per import variant"
    )
    parser.add_argument(
        "--setup-runs", type=int, default=3, help="test Home Assistants set up"
    )
    parser.add_argument(
        "--frame-repeats", type=int, default=5, help="frames prepared per size"
    )
    parser.add_argument("--flavour", default="mk4s", choices=("mk4s", "mk3s"))
    parser.add_argument(
        "--json", action="store_true", help="print the figures as JSON (tests)"
    )
    parser.add_argument(
        "--write-readme",
        "--readme",
        dest="readme",
        action="store_true",
        help="full run only: store benchmarks/results/host_cost.json and write "
        "README.md's host-cost table",
    )
    return parser.parse_args(argv)


def store_results(figs: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Write the run's figures to `RESULTS`; return what was written."""
    data: dict[str, Any] = {
        "runs": {
            name: getattr(args, name)
            for name in ("runs", "setup_runs", "frame_repeats", "flavour")
        },
        "figures": figs,
    }
    return readme.store_json(RESULTS, data)


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    """The stored run."""
    return readme.load_json(path)


def _share(value: float) -> str:
    """A ratio below 1 as a percentage a reader can picture."""
    percent = 100 * value
    return f"{percent:.2g} %" if percent < 1 else f"{percent:.0f} %"


def readme_table(data: dict[str, Any]) -> list[str]:
    """README's table from a stored run: ratios only (times differ by machine)."""
    f = data["figures"]

    def ratio(name: str) -> float:
        ours, anchor = f[name]
        return float(ours / anchor)

    lines = [
        "| What it costs the host | Print Sentinel, relative to |",
        "|---|---|",
        f"| Importing the integration and its platforms "
        f"| {ratio('import_wall_ms'):.1f}x core `prusalink`'s |",
        f"| The same with an OpenAI-compatible detector configured (the OpenAI SDK) "
        f"| {ratio('import_with_openai_wall_ms'):.0f}x core `prusalink`'s |",
        f"| `async_setup_entry` of one printer "
        f"| {ratio('setup_entry_ms'):.1f}x core `prusalink`'s; "
        f"{_share(ratio('setup_entry_vs_warning_ms'))} of the "
        f"{f['setup_entry_vs_warning_ms'][1] / 1000:g} s after which HA warns |",
    ]
    for size, label in (("1080p", "1080p"), ("4k", "4K")):
        for name in sorted(
            (n for n in f if n.startswith(f"frame_{size}_to_") and n.endswith("_ms")),
            key=lambda n: int(n.split("_to_")[1].removesuffix("_cpu_ms")),
        ):
            side = name.split("_to_")[1].removesuffix("_cpu_ms")
            lines.append(
                f"| CPU to prepare one {label} camera JPEG for the detector "
                f"({side} px) | {_share(ratio(name))} of the "
                f"{f[name][1] / 1000:g} s check interval |"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; --write-readme also stores them and writes the table."""
    args = parse_args(argv)
    if args.readme and vars(args) != {**vars(parse_args([])), "readme": True}:
        raise SystemExit("--write-readme takes the full run (no other arguments)")
    started = time.perf_counter()
    results = run(args.runs, args.setup_runs, args.frame_repeats, args.flavour)
    lines = format_report(results, args.flavour)
    lines.append(f"# {PREFIX}: took {time.perf_counter() - started:.0f} s")
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(figures(results)) + "\n")
    if args.readme:
        TABLE.write(readme_table(store_results(figures(results), args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
