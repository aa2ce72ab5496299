"""A real OctoPrint (1.11, its Virtual Printer) for the end-to-end tests, on loopback only.

`scripts/setup-octoprint` puts OctoPrint into `.venv-octoprint/` (it needs Python
3.11-3.13, not the project's 3.14). Here it is configured and started:

- `config.yaml` disables every plugin that calls the internet (update checks, tracking,
  announcements, ...), enables the Virtual Printer and keeps the discovery plugin ON
  (core's config flow reads `/plugin/discovery/discovery.xml` for the entry's unique
  id), bound to `lo` and 127.0.0.1;
- where `unshare -n` works (root), OctoPrint runs in a network namespace of its own
  with only `lo` up, so its mDNS/SSDP announcements reach no network;
  `octoprint_forward.py` forwards 127.0.0.1:PORT of the machine to it. Otherwise it
  runs in the machine's namespace, on 127.0.0.1, with discovery on `lo` only;
- an admin user is added with OctoPrint's CLI (no setup wizard);
- `OctoPrintSession` logs in as a browser does (CSRF cookie, `POST /api/login`) and
  drives the REST API: connect the Virtual Printer, upload and print a file, approve
  an application key request (the "Allow" a person clicks in OctoPrint's UI).
"""

from __future__ import annotations

from dataclasses import dataclass
import http.cookiejar
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
from typing import Any
import urllib.error
import urllib.request
import uuid

from .harness import (
    LOOPBACK,
    REPO,
    HttpError,
    ManagedProcess,
    ProcessGroup,
    free_port,
    wait_until,
)

OCTOPRINT_VENV = REPO / ".venv-octoprint"
OCTOPRINT_USER = "maker"
OCTOPRINT_PASSWORD = "e2e-octoprint-secret"
HOME_ASSISTANT_APP = "Home Assistant"
"""The app name core's config flow asks OctoPrint's appkeys plugin a key for."""

DISABLED_PLUGINS = [
    # each of these calls the internet (or offers to install from it)
    "health_check",
    "pluginmanager",
    "softwareupdate",
    "tracking",
    "announcements",
    "errortracking",
    "achievements",
]


def octoprint_missing() -> str | None:
    """Return why OctoPrint cannot run here, or None when `.venv-octoprint` has it."""
    if not (OCTOPRINT_VENV / "bin" / "octoprint").exists():
        return (
            f"OctoPrint is not installed ({OCTOPRINT_VENV.name}/ is missing): "
            "run scripts/setup-octoprint (scripts/setup-e2e does), which says why "
            "it could not install it"
        )
    return None


def network_namespace_works() -> bool:
    """Return whether `unshare -n` can give OctoPrint a namespace with only `lo` up.

    The forwarder joins it with `setns`, which needs the same privilege (root here).
    """
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not (unshare and ip and hasattr(os, "setns")):
        return False
    try:
        done = subprocess.run(
            [unshare, "-n", "--", ip, "link", "set", "lo", "up"],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except OSError, subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def write_config(basedir: Path, webcam_stream_url: str) -> None:
    """Write OctoPrint's `config.yaml`: quiet, loopback only, Virtual Printer, webcam.

    Core's camera entity takes the webcam's stream URL and asks it for
    `?action=snapshot` (mjpg-streamer's API) as the still image; any URL serving a
    JPEG works, such as a simulator's camera.
    """
    basedir.mkdir(parents=True, exist_ok=True)
    config = {
        "server": {
            "firstRun": False,
            "onlineCheck": {"enabled": False},
            "pluginBlacklist": {"enabled": False},
            "seenWizards": {"corewizard": 4},
        },
        "plugins": {
            "_disabled": DISABLED_PLUGINS,
            "virtual_printer": {"enabled": True},
            "discovery": {
                "addresses": [LOOPBACK],
                "interfaces": ["lo"],
                "publicHost": LOOPBACK,
            },
            "classicwebcam": {
                # settings version 1: no migration from the old `webcam` section,
                # which would overwrite these with its (empty) stream URL
                "_config_version": 1,
                "stream": webcam_stream_url,
                "snapshot": webcam_stream_url,
            },
        },
        "webcam": {"webcamEnabled": True, "timelapseEnabled": False},
    }
    # JSON is YAML: no YAML library needed in the test venv
    (basedir / "config.yaml").write_text(json.dumps(config, indent=2) + "\n")


def octoprint_command(*args: str) -> list[str]:
    """Return the `octoprint` command line of `.venv-octoprint`."""
    return [str(OCTOPRINT_VENV / "bin" / "octoprint"), *args]


def add_admin(basedir: Path) -> None:
    """Add the admin user with OctoPrint's CLI (what the setup wizard would do)."""
    subprocess.run(
        octoprint_command(
            "--basedir",
            str(basedir),
            "user",
            "add",
            OCTOPRINT_USER,
            "--password",
            OCTOPRINT_PASSWORD,
            "--admin",
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass(frozen=True)
class OctoPrintServer:
    """A running OctoPrint and how it is reached."""

    url: str
    port: int
    process: ManagedProcess
    forwarder: ManagedProcess | None
    """Set when OctoPrint runs in a network namespace of its own."""

    @property
    def isolated(self) -> bool:
        """Whether OctoPrint runs in a network namespace with only `lo`."""
        return self.forwarder is not None


def start_octoprint(
    group: ProcessGroup, basedir: Path, log_dir: Path, webcam_stream_url: str
) -> OctoPrintServer:
    """Configure OctoPrint, add the admin, start it and wait until it answers."""
    write_config(basedir, webcam_stream_url)
    add_admin(basedir)
    port = free_port()
    serve = octoprint_command(
        "serve", "--host", LOOPBACK, "--port", str(port), "--basedir", str(basedir)
    )
    if os.geteuid() == 0:
        serve.insert(2, "--iknowwhatimdoing")  # OctoPrint refuses root without it
    isolated = network_namespace_works()
    if isolated:
        # own network namespace: bring `lo` up, then become OctoPrint (same pid)
        argv = [
            "unshare",
            "-n",
            "--",
            "sh",
            "-c",
            'ip link set lo up && exec "$0" "$@"',
            *serve,
        ]
    else:
        argv = serve
    process = group.start("octoprint", argv, log_dir / "octoprint.log")
    forwarder = None
    if isolated:
        forwarder = group.start(
            "octoprint-forward",
            [
                sys.executable,
                str(Path(__file__).with_name("octoprint_forward.py")),
                "--pid",
                str(process.process.pid),
                "--port",
                str(port),
            ],
            log_dir / "octoprint-forward.log",
        )
    url = f"http://{LOOPBACK}:{port}"

    def answering() -> bool:
        for managed in (process, forwarder):
            if managed is not None and managed.process.poll() is not None:
                raise RuntimeError(
                    f"{managed.name} exited with {managed.process.returncode}:\n"
                    f"{managed.log_tail()}"
                )
        try:
            with urllib.request.urlopen(f"{url}/api/version", timeout=5) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as err:
            return err.code == 403  # up; the API wants a login

    try:
        wait_until(answering, timeout=120, what="OctoPrint's /api/version")
    except (TimeoutError, RuntimeError) as err:
        raise RuntimeError(
            f"{err}\n--- octoprint.log ---\n{process.log_tail()}"
        ) from err
    return OctoPrintServer(url, port, process, forwarder)


class OctoPrintSession:
    """OctoPrint's REST API as a logged-in browser uses it: session cookie + CSRF header."""

    def __init__(self, url: str, user: str, password: str) -> None:
        """Fetch the CSRF cookie from `/`, then log in."""
        self.url = url
        self._jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self._jar)
        )
        with self._opener.open(f"{url}/", timeout=30) as response:
            response.read()
        self.user = self.request("POST", "/api/login", {"user": user, "pass": password})

    def _csrf_token(self) -> str:
        for cookie in self._jar:
            if cookie.name.startswith("csrf_token"):
                return str(cookie.value)
        raise AssertionError(f"OctoPrint set no csrf_token cookie: {list(self._jar)}")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        content_type: str | None = None,
        timeout: float = 30,
    ) -> Any:
        """Send a request; return the decoded JSON answer (None when empty)."""
        headers = {"Accept": "application/json", "X-CSRF-Token": self._csrf_token()}
        if body is not None:
            data = json.dumps(body).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, headers=headers, method=method
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise HttpError(
                method, path, err.code, err.read().decode(errors="replace")
            ) from err
        return json.loads(raw) if raw.strip() else None

    def get(self, path: str) -> Any:
        """GET a REST resource."""
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        """POST JSON to a REST resource."""
        return self.request("POST", path, body if body is not None else {})

    def upload(self, name: str, content: bytes) -> Any:
        """Upload a file to OctoPrint's local storage (multipart `file`, as the UI does)."""
        boundary = uuid.uuid4().hex
        data = (
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.request(
            "POST",
            "/api/files/local",
            data=data,
            content_type=f"multipart/form-data; boundary={boundary}",
            timeout=60,
        )

    def connect_virtual_printer(self) -> None:
        """Connect OctoPrint to its Virtual Printer and wait until it is Operational."""
        self.post("/api/connection", {"command": "connect", "port": "VIRTUAL"})
        wait_until(
            lambda: self.get("/api/connection")["current"]["state"] == "Operational",
            timeout=60,
            what="OctoPrint's Virtual Printer to be Operational",
        )

    def job_state(self) -> str:
        """Return `GET /api/job`'s state (Operational, Printing, Paused, ...)."""
        return str(self.get("/api/job")["state"])

    def pending_app_key_requests(self, app: str = HOME_ASSISTANT_APP) -> list[str]:
        """Return the user tokens of pending application key requests from `app`."""
        pending = self.get("/api/plugin/appkeys").get("pending") or {}
        return [
            token
            for token, request in pending.items()
            if request.get("app_id") == app or request.get("app") == app
        ]

    def approve_app_key(
        self, app: str = HOME_ASSISTANT_APP, timeout: float = 60
    ) -> str:
        """Wait for `app`'s key request and allow it (a person's click on "Allow")."""

        def pending() -> str | None:
            tokens = self.pending_app_key_requests(app)
            return tokens[0] if tokens else None

        token = wait_until(
            pending,
            timeout=timeout,
            what=f"OctoPrint to list {app}'s application key request",
        )
        self.post(f"/plugin/appkeys/decision/{token}", {"decision": True})
        return token


def dwell_gcode(seconds: float, dwell_ms: int = 300) -> bytes:
    """Return G-code that keeps the Virtual Printer busy about `seconds` (G4 dwells).

    A few heating and move lines give OctoPrint something to show; the dwells make
    the print last, each a `G4 P<ms>` line between two small moves, so progress
    (by bytes) grows steadily.
    """
    lines = [
        "; Print Sentinel e2e: a long, harmless print on the Virtual Printer",
        "M140 S60",
        "M104 S210",
        "G28",
        "G90",
        "G1 Z0.2 F3000",
    ]
    for index in range(int(seconds * 1000 / dwell_ms)):
        x = 50 + (index % 100)
        lines += [f"G1 X{x} Y50 E{index * 0.01:.2f} F1500", f"G4 P{dwell_ms}"]
    lines += ["M104 S0", "M140 S0", "G28 X0", "M84"]
    return ("\n".join(lines) + "\n").encode()
