"""benchmarks.poll: well-formed figures, and the request counts they rest on.

Runs the real benchmark (PrusaLinkBackend and pyprusalink against in-process
PrusaLink simulators on loopback) over two simulated minutes.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import poll

# phcc blocks creating sockets; connecting stays limited to 127.0.0.1
pytestmark = pytest.mark.usefixtures("socket_enabled")

LINE = re.compile(
    r"^(?P<name>poll(?:\.[a-z0-9_]+)+): (?P<value>\d+(?:\.\d+)?) (?P<unit>\S+) "
    r"\(core: (?P<core>\d+(?:\.\d+)?) (?P=unit), ratio (?:\d+\.\d\d|n/a)\)$"
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: these tests need no Home Assistant."""


def _by_scenario(
    results: list[poll.Comparison], printers: int = 1
) -> dict[str, poll.Comparison]:
    return {r.ours.scenario: r for r in results if r.ours.printers == printers}


def _figures(lines: list[str]) -> dict[str, tuple[float, str, float]]:
    figures = {}
    for line in lines:
        if line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"malformed figure line: {line!r}"
        figures[match["name"]] = (
            float(match["value"]),
            match["unit"],
            float(match["core"]),
        )
    return figures


def test_every_line_is_a_figure_with_its_core_anchor() -> None:
    _, lines = poll.run(printers=(1,), print_minutes=2)

    figures = _figures(lines)

    assert lines[0].startswith("# poll:")
    assert figures["poll.idle.requests_per_minute"] == (2.0, "req/min", 10.0)
    assert figures["poll.printing.requests_per_minute"] == (11.0, "req/min", 10.0)
    assert figures["poll.printing.state_change_latency_max"] == (6, "s", 30)
    assert figures["poll.idle.state_change_latency_max"] == (30, "s", 30)
    assert figures["poll.setup_requests"] == (5, "req", 6)
    for scenario in ("idle", "printing"):
        value, unit, core = figures[f"poll.{scenario}.cpu_per_poll_ms"]
        assert unit == "ms"
        assert value > 0
        assert core > 0  # CPU time: no ordering asserted, it is not deterministic


def test_idle_printer_is_read_once_per_30_s_cycle() -> None:
    results, _ = poll.run(printers=(1,), print_minutes=2)

    idle = _by_scenario(results)["idle"]

    assert idle.ours.polls == 4
    assert idle.ours.by_path == {"/api/v1/status": 4}
    assert idle.ours.requests == 4
    assert idle.ours.challenges == 0
    assert idle.ours.latency_max == 30


def test_printing_is_read_every_6_s_plus_job_and_material_on_start() -> None:
    results, _ = poll.run(printers=(1,), print_minutes=2)

    printing = _by_scenario(results)["printing"]

    assert printing.ours.polls == 20
    assert printing.ours.by_path == {
        "/api/v1/status": 20,
        "/api/v1/job": 1,
        "/api/printer": 1,
    }
    assert printing.ours.requests == 22
    assert printing.ours.latency_max == 6


def test_core_reads_five_endpoints_every_30_s_printing_or_not() -> None:
    results, _ = poll.run(printers=(1,), print_minutes=2)

    for comparison in _by_scenario(results).values():
        core = comparison.core
        assert core.polls == 4
        assert core.by_path == dict.fromkeys(
            (
                "/api/v1/status",
                "/api/v1/job",
                "/api/printer",
                "/api/v1/info",
                "/api/version",
            ),
            4,
        )
        assert core.latency_max == 30
        assert core.setup_requests == 6  # five reads, one Digest challenge


def test_fleet_polls_every_printer_mid_print() -> None:
    results, lines = poll.run(printers=(2,), print_minutes=60, fleet_minutes=1)

    fleet = _by_scenario(results, printers=2)
    figures = _figures(lines)

    # already printing when set up: no job-start reads in the window
    assert fleet["printing"].ours.by_path == {"/api/v1/status": 20}
    assert fleet["printing"].core.requests == 2 * 2 * 5
    assert fleet["idle"].ours.by_path == {"/api/v1/status": 4}
    assert figures["poll.2_printers.printing.requests_per_minute"] == (
        20.0,
        "req/min",
        20.0,
    )
