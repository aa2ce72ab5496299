"""Fixtures for the end-to-end tests: a real `hass`, the simulators, and a browser.

These tests do not use pytest-homeassistant-custom-component's `hass` fixture. They
start `.venv/bin/hass` (or `$PRINT_SENTINEL_E2E_PYTHON`'s venv's, with pip when
`$PRINT_SENTINEL_E2E_PIP=1`: see `harness.hass_command`) as a separate process on a free loopback port, with a fresh
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
import subprocess
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
    hass_python,
    http_json,
    onboard,
    pip_enabled,
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
def home_assistant(
    processes: ProcessGroup, output_dir: Path
) -> Iterator[HomeAssistantInstance]:
    """Start Home Assistant, onboard it, and wait until it runs."""
    allow_sockets()
    needed = ("hass_frontend", "pymicro_vad", "turbojpeg")
    if hass_python() == Path(sys.executable):
        missing = [name for name in needed if find_spec(name) is None]
    else:  # another venv's Home Assistant (scripts/test-newest-ha)
        probe = "import sys, importlib.util as u; print(*[n for n in sys.argv[1:] if u.find_spec(n) is None])"
        answer = subprocess.run(
            [str(hass_python()), "-c", probe, *needed],
            capture_output=True,
            text=True,
            check=True,
        )
        missing = answer.stdout.split()
    assert not missing, f"{missing} not installed: run scripts/setup-e2e first"
    config_dir = output_dir / "config"
    url, managed = start_home_assistant(processes, config_dir, output_dir)
    hass = onboard(url, managed, config_dir)
    wait_until_running(hass)
    yield hass
    if pip_enabled():
        # Home Assistant checked (and would have installed) our manifest's
        # requirements under its own package constraints, and accepted them.
        log = hass.log_text()
        assert "--skip-pip" not in managed.process.args
        assert "Requirements for print_sentinel not found" not in log, log[-4000:]
        assert "Unable to install package" not in log, log[-4000:]


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
