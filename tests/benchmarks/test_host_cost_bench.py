"""The host-cost benchmark, run short: what a user's Home Assistant would notice.

It runs a Home Assistant of its own and fresh Python processes, so it runs in its
own process, as the other benchmarks' tests do. No timing is asserted against a
number: only what holds however loaded the machine is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from benchmarks import host_cost

SHORT = ["--runs", "1", "--setup-runs", "1", "--frame-repeats", "1", "--json"]
FIGURE = re.compile(
    r"^host_cost\.(?P<name>[\w.]+): (?P<value>-?[\d.]+) ms "
    r"\((?P<anchor>[^:]+): (?P<anchor_value>[\d.]+) ms, ratio (?P<ratio>[\d.e+-]+)\)$"
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: the benchmark brings its own HA."""


@pytest.fixture(scope="module")
def short_run() -> tuple[list[str], dict[str, Any]]:
    """The report lines and the figures of a short run."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.host_cost", *SHORT],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])


def test_every_figure_is_printed_with_its_anchor_and_ratio(
    short_run: tuple[list[str], dict[str, Any]],
) -> None:
    lines, _ = short_run
    figures = [line for line in lines if not line.startswith("#")]
    names = set()
    for line in figures:
        match = FIGURE.match(line)
        assert match, line
        names.add(match["name"])
        anchor = float(match["anchor_value"])
        assert anchor > 0, line
    sizes = [f"{s}_to_{side}" for s in host_cost.FRAME_SIZES for side in (256, 768)]
    assert names == {
        "import_ms",
        "import_cpu_ms",
        "import_with_openai_ms",
        "import_with_openai_cpu_ms",
        "import_openai_share_ms",
        "setup_entry_ms",
        "setup_entry_vs_warning_ms",
        *(f"frame_{size}.prepare_cpu_ms" for size in sizes),
    }


def test_a_printer_sets_up_and_the_import_leaves_the_sdk_out(
    short_run: tuple[list[str], dict[str, Any]],
) -> None:
    _, figures = short_run
    ours, core = figures["setup_entry_ms"]
    assert ours > 0
    assert core > 0
    # the integration alone does not import the OpenAI SDK; a detector would
    assert figures["import_ours"]["openai"] is False
    assert figures["import_ours_openai"]["openai"] is True
    assert figures["import_core"]["openai"] is False
    # every platform Home Assistant loads was imported, from bytecode like core's
    assert {"sensor", "camera", "config_flow"} <= set(
        figures["import_ours"]["platforms"]
    )
    for key in ("import_ours", "import_core"):
        info = figures[key]
        assert info["cached"] == info["sources"] > 0, key


def test_a_frame_is_prepared_to_the_detector_size_in_a_sliver_of_a_check(
    short_run: tuple[list[str], dict[str, Any]],
) -> None:
    _, figures = short_run
    for size, (width, height) in host_cost.FRAME_SIZES.items():
        for side in (256, 768):
            frame = figures[f"frame_{size}_to_{side}"]
            assert frame["source"] == [width, height]
            assert frame["prepared"] == [side, side * height // width]
            assert frame["prepared_bytes"] < frame["source_bytes"]
            cpu, interval = figures[f"frame_{size}_to_{side}_cpu_ms"]
            # a frame takes less CPU than a check interval lasts (by far)
            assert 0 < cpu < interval
