"""Processes, ports and the Home Assistant instance the end-to-end tests drive.

Everything here talks to loopback only and keeps every process it starts in a
`ProcessGroup`, so a test can prove that nothing of the run survives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

PRINTER_PASSWORD = "e2e-printer-secret"
OPENAI_API_KEY = "sk-e2e-0123456789abcdef"

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def hass_python() -> Path:
    """Return the interpreter whose venv's `hass` runs (tests and simulators use ours).

    `$PRINT_SENTINEL_E2E_PYTHON` points at another venv's python (scripts/test-newest-ha:
    the newest Home Assistant on PyPI); by default it is the one running the tests.
    """
    return Path(os.environ.get("PRINT_SENTINEL_E2E_PYTHON") or sys.executable)


def hass_version() -> str:
    """Return the version of the Home Assistant `hass_command` starts."""
    return subprocess.run(
        [
            str(hass_python()),
            "-c",
            "import homeassistant.const as c; print(c.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def pip_enabled() -> bool:
    """Return whether `hass` installs requirements itself (`$PRINT_SENTINEL_E2E_PIP=1`).

    By default it starts with --skip-pip (everything is in .venv already). With pip,
    Home Assistant checks every integration's requirements, ours included, and installs
    what is missing under its package constraints, as on a user's machine; packages in
    `$PRINT_SENTINEL_E2E_SKIP_PIP_PACKAGES` (comma-separated) are left to the venv.
    """
    return os.environ.get("PRINT_SENTINEL_E2E_PIP") == "1"


def hass_command(config_dir: Path) -> list[str]:
    """Return the `hass` command line for the chosen venv and pip mode."""
    argv = [str(hass_python().parent / "hass"), "--config", str(config_dir)]
    if not pip_enabled():
        argv.append("--skip-pip")
    elif skip := os.environ.get("PRINT_SENTINEL_E2E_SKIP_PIP_PACKAGES"):
        argv += ["--skip-pip-packages", skip]
    return [*argv, "--log-no-color"]


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until[T](
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.5,
    what: str,
) -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if result := probe():
                return result
        except Exception as err:  # the thing we wait for is not there yet
            last_error = err
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(
                f"gave up after {timeout:.0f} s waiting for {what}{detail}"
            )
        time.sleep(interval)


def _session_of(pid: int) -> int | None:
    """Return the session id of a process, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing paren
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has ended; only its exit status is left
        return None
    return int(fields[3])


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass
class ManagedProcess:
    """One process started for the run, in a session of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the process's output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class ProcessGroup:
    """Starts processes in their own sessions and stops them (and their children)."""

    processes: list[ManagedProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path = REPO,
    ) -> ManagedProcess:
        """Start `argv` with its output going to `log_path`.

        With util-linux's `setpriv`, the process also gets SIGTERM should the test
        run itself be killed, so not even a killed run leaves it behind.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if setpriv := shutil.which("setpriv"):
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its children share the session: see survivors()
            )
        managed = ManagedProcess(name, process, log_path)
        self.processes.append(managed)
        return managed

    def survivors(self) -> list[str]:
        """Describe every live process in a session this group started."""
        sessions = {managed.process.pid for managed in self.processes}
        return [
            f"{pid}: {_command_line(pid)}"
            for pid in _pids()
            if _session_of(pid) in sessions
        ]

    def stop(self, managed: ManagedProcess, timeout: float = 20) -> None:
        """Terminate a process and its session; kill what has not ended in time."""
        session = managed.process.pid
        if managed.process.poll() is None:
            _signal_session(session, signal.SIGTERM)
            try:
                managed.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_session(session, signal.SIGKILL)
                managed.process.wait(10)
        # children that outlive their parent (a browser's helpers) go too
        deadline = time.monotonic() + 5
        while any(_session_of(pid) == session for pid in _pids()):
            if time.monotonic() > deadline:
                _signal_session(session, signal.SIGKILL)
                deadline += 5
            time.sleep(0.1)

    def stop_all(self) -> None:
        """Stop every process, newest first (the browser before the server)."""
        for managed in reversed(self.processes):
            self.stop(managed)


def _pids() -> list[int]:
    return [
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    ]


def _signal_session(session: int, sig: signal.Signals) -> None:
    """Send `sig` to every process of a session (its process groups included)."""
    for pid in _pids():
        if _session_of(pid) == session:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """Return the (address, port) pairs a process listens on with TCP."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            raw = bytes.fromhex(address)
            if width == 4:
                host = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:  # four little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                host = socket.inet_ntop(socket.AF_INET6, words)
            found.add((host, int(port, 16)))
    return found


class HttpError(Exception):
    """An HTTP request answered with an unexpected status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        """Keep what the server said."""
        super().__init__(f"{method} {url} -> HTTP {status}: {body[:4000]}")
        self.status = status
        self.body = body


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    form: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Any:
    """Send a request and return the decoded JSON answer (None when empty)."""
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        raise HttpError(
            method, url, err.code, err.read().decode(errors="replace")
        ) from err
    return json.loads(raw) if raw.strip() else None


@dataclass(frozen=True)
class Simulator:
    """A simulator process and its base URL."""

    url: str
    process: ManagedProcess

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the simulator's `/_sim/...` control API."""
        return http_json(method, f"{self.url}{path}", body)


@dataclass(frozen=True)
class HomeAssistantInstance:
    """A running `hass` that has been onboarded, and the owner's tokens."""

    url: str
    config_dir: Path
    process: ManagedProcess
    access_token: str
    refresh_token: str
    expires_in: int
    client_id: str

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """Call Home Assistant's REST API as the owner."""
        return http_json(method, f"{self.url}{path}", body, token=self.access_token)

    def log_text(self) -> str:
        """Return everything Home Assistant logged so far."""
        return self.process.log_path.read_text(errors="replace")

    def log_records(self) -> list[str]:
        """Return the log split into records: a dated line plus its traceback, if any."""
        records: list[str] = []
        for line in self.log_text().splitlines():
            if line[:4].isdigit() or not records:
                records.append(line)
            else:
                records[-1] += "\n" + line
        return records

    def error_records(self) -> list[str]:
        """Return the ERROR and CRITICAL records."""
        return [
            r
            for r in self.log_records()
            if " ERROR " in r.split("\n", 1)[0] or " CRITICAL " in r.split("\n", 1)[0]
        ]

    def last_error(self, max_lines: int = 25) -> str:
        """Return the last ERROR record Home Assistant logged (with its traceback's end)."""
        errors = self.error_records()
        if not errors:
            return "(none logged)"
        lines = errors[-1].splitlines()
        if len(lines) > max_lines + 1:
            lines = [lines[0], "...", *lines[-max_lines:]]
        return "\n".join(lines)


def write_configuration(config_dir: Path, port: int) -> None:
    """Write the smallest configuration the frontend and a dashboard need.

    Home Assistant 2026.10 keeps the HTTP settings in `.storage/http`: an `http:`
    section in YAML is migrated as a *pending* trial that the UI asks to confirm
    and that reverts to 0.0.0.0:8123 after five minutes. So the loopback address
    and port are written as the confirmed (`stable`) settings instead.

    `custom_components/print_sentinel` is a symlink to the repository's, so the run
    exercises the code under test, not a copy.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        """\
# Written by tests/e2e: a loopback-only Home Assistant for end-to-end tests.
# HTTP settings (127.0.0.1 and the port) are in .storage/http.
homeassistant:
  name: Print Sentinel E2E
  time_zone: UTC
  unit_system: metric
  country: CZ
  language: en
frontend:
api:
config:
onboarding:
logger:
  default: warning
  logs:
    custom_components.print_sentinel: debug
    homeassistant.bootstrap: info
    homeassistant.requirements: info
    homeassistant.util.package: info
"""
    )
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    http_settings = {
        "server_host": [LOOPBACK],
        "server_port": port,
        "cors_allowed_origins": [],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": False,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    (storage / "http").write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {
                    "stable": http_settings,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )
    # The core_config step's API sets up met, radio_browser and google_translate,
    # which would call the internet: mark it done here, as the owner would have.
    (storage / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config"]},
            }
        )
    )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "print_sentinel"
    if not link.is_symlink():
        link.symlink_to(REPO / "custom_components" / "print_sentinel")


def start_home_assistant(
    group: ProcessGroup, config_dir: Path, log_dir: Path
) -> tuple[str, ManagedProcess]:
    """Start `hass` (see `hass_command`) and wait until its HTTP API answers."""
    port = free_port()
    write_configuration(config_dir, port)
    url = f"http://{LOOPBACK}:{port}"
    process = group.start(
        "home-assistant", hass_command(config_dir), log_dir / "home-assistant.log"
    )

    def answering() -> bool:
        if process.process.poll() is not None:
            raise RuntimeError(
                f"hass exited with {process.process.returncode}:\n{process.log_tail()}"
            )
        return http_json("GET", f"{url}/api/onboarding", timeout=5) is not None

    try:
        # with pip, a first start may install a default integration's requirements
        timeout = 600 if pip_enabled() else 180
        wait_until(answering, timeout=timeout, what="Home Assistant's /api/onboarding")
    except (TimeoutError, RuntimeError) as err:
        raise RuntimeError(f"{err}\n--- hass output ---\n{process.log_tail()}") from err
    return url, process


def onboard(
    url: str, process: ManagedProcess, config_dir: Path
) -> HomeAssistantInstance:
    """Onboard as the frontend does: owner, tokens, then the remaining steps.

    `core_config` is already done (see `write_configuration`).
    """
    client_id = f"{url}/"  # the frontend's own client id: its refresh works with it
    password = secrets.token_urlsafe(16)
    created = http_json(
        "POST",
        f"{url}/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "Ada Maker",
            "username": "ada",
            "password": password,
            "language": "en",
        },
    )
    tokens = http_json(
        "POST",
        f"{url}/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": created["auth_code"],
            "client_id": client_id,
        },
    )
    token = tokens["access_token"]
    http_json("POST", f"{url}/api/onboarding/analytics", {}, token=token)
    http_json(
        "POST",
        f"{url}/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": f"{url}/?auth_callback=1"},
        token=token,
    )
    return HomeAssistantInstance(
        url=url,
        config_dir=config_dir,
        process=process,
        access_token=token,
        refresh_token=tokens["refresh_token"],
        expires_in=int(tokens["expires_in"]),
        client_id=client_id,
    )


def wait_until_running(hass: HomeAssistantInstance) -> None:
    """Wait until Home Assistant has finished starting (state RUNNING)."""
    wait_until(
        lambda: hass.rest("GET", "/api/config")["state"] == "RUNNING",
        timeout=180,
        what="Home Assistant to reach RUNNING",
    )
