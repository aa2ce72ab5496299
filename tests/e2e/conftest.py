"""Fixtures for the end-to-end tests: a real `hass`, the simulators, and a browser.

These tests do not use pytest-homeassistant-custom-component's `hass` fixture. They
start `.venv/bin/hass` as a separate process on a free loopback port, with a fresh
configuration directory under the output directory (default `out/e2e/`, or
`$PRINT_SENTINEL_E2E_OUT`), onboard it over HTTP as the frontend does, and drive it
over REST and websocket. Every process is stopped at the end of the module, and the
module's teardown fails if one survives.

phcc's plugin blocks sockets before every test (pytest-socket; connections to
127.0.0.1 stay allowed). The autouse `loopback_sockets` fixture lets each test open
sockets again, and the module fixtures, which are set up inside whichever test needs
them first, call `allow_sockets()` themselves. Connections stay limited to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from importlib.util import find_spec
import os
from pathlib import Path
import shutil
import sys

import aiohttp
import pytest
import pytest_socket

from .client import HomeAssistantClient
from .harness import (
    LOOPBACK,
    OPENAI_API_KEY,
    PRINTER_PASSWORD,
    REPO,
    HomeAssistantInstance,
    ProcessGroup,
    Simulator,
    free_port,
    http_json,
    onboard,
    start_home_assistant,
    wait_until,
    wait_until_running,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: it needs phcc's in-process `hass`, these don't."""


def allow_sockets() -> None:
    """Undo pytest-socket's block for this test (phcc's loopback-only rule stays)."""
    pytest_socket.enable_socket()


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let every test open sockets again (phcc blocks them before each test)."""


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """Return the fresh directory for logs, configuration and screenshots.

    `out/e2e` is always ours; a directory given in `$PRINT_SENTINEL_E2E_OUT` is
    wiped only if an earlier run made it (it holds the marker file) or it is empty.
    """
    default = REPO / "out" / "e2e"
    out = Path(os.environ.get("PRINT_SENTINEL_E2E_OUT", default)).resolve()
    marker = out / ".print-sentinel-e2e"
    if out.exists():
        assert out == default or marker.exists() or not any(out.iterdir()), (
            f"{out} is not empty and was not made by these tests: not wiping it"
        )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    marker.write_text("made by tests/e2e; wiped at the start of each run\n")
    return out


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessGroup]:
    """Own every process the module starts; stop them all and prove it at the end."""
    group = ProcessGroup()
    yield group
    group.stop_all()
    survivors = group.survivors()
    assert not survivors, f"processes of this run still running: {survivors}"


@pytest.fixture(scope="module")
def prusalink(processes: ProcessGroup, output_dir: Path) -> Simulator:
    """Start the PrusaLink simulator (an idle MK4S) on a free loopback port."""
    allow_sockets()
    port = free_port()
    managed = processes.start(
        "prusalink",
        [
            sys.executable,
            "-m",
            "simulators.prusalink",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--password",
            PRINTER_PASSWORD,
        ],
        output_dir / "prusalink-simulator.log",
    )
    sim = Simulator(f"http://{LOOPBACK}:{port}", managed)
    _wait_for_simulator(sim, "/_sim/state")
    return sim


@pytest.fixture(scope="module")
def openai_simulator(processes: ProcessGroup, output_dir: Path) -> Simulator:
    """Start the OpenAI-compatible vision simulator on a free loopback port."""
    allow_sockets()
    port = free_port()
    managed = processes.start(
        "openai",
        [
            sys.executable,
            "-m",
            "simulators.openai_compat",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--api-key",
            OPENAI_API_KEY,
            # a clean print is judged clean every time (no random false positives)
            "--false-positive-rate",
            "0",
        ],
        output_dir / "openai-simulator.log",
    )
    sim = Simulator(f"http://{LOOPBACK}:{port}", managed)
    _wait_for_simulator(sim, "/_sim/requests")
    return sim


def _wait_for_simulator(sim: Simulator, path: str) -> None:
    def answering() -> bool:
        if sim.process.process.poll() is not None:
            raise RuntimeError(
                f"{sim.process.name} simulator exited:\n{sim.process.log_tail()}"
            )
        return http_json("GET", f"{sim.url}{path}", timeout=5) is not None

    try:
        wait_until(answering, timeout=60, what=f"the {sim.process.name} simulator")
    except (TimeoutError, RuntimeError) as err:
        raise RuntimeError(f"{err}\n{sim.process.log_tail()}") from err


@pytest.fixture(scope="module")
def home_assistant(processes: ProcessGroup, output_dir: Path) -> HomeAssistantInstance:
    """Start Home Assistant, onboard it, and wait until it runs."""
    allow_sockets()
    missing = [
        name
        for name in ("hass_frontend", "pymicro_vad", "turbojpeg")
        if find_spec(name) is None
    ]
    assert not missing, f"{missing} not installed: run scripts/setup-e2e first"
    config_dir = output_dir / "config"
    url, managed = start_home_assistant(processes, config_dir, output_dir)
    hass = onboard(url, managed, config_dir)
    wait_until_running(hass)
    return hass


@pytest.fixture
async def ha(
    home_assistant: HomeAssistantInstance,
) -> AsyncIterator[HomeAssistantClient]:
    """Return a REST and websocket client logged in as the owner."""
    async with aiohttp.ClientSession() as session:
        yield HomeAssistantClient(session, home_assistant)


@pytest.fixture
def screenshot_dir(output_dir: Path) -> Path:
    """Return where screenshots of this run go."""
    path = output_dir / "screenshots"
    path.mkdir(exist_ok=True)
    return path
