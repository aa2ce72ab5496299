"""Set up a local Home Assistant for `scripts/develop`, over its HTTP API.

    python -m devtools.ha free-port [--prefer 8124]
    python -m devtools.ha prepare --config config --port 8123
    python -m devtools.ha up --config config --port 8123 --hass-pid PID \
        --printer http://127.0.0.1:8124 --printer-password develop \
        [--openai http://127.0.0.1:8125/v1 --openai-key sk-...]

`prepare` writes what Home Assistant reads before it starts: the HTTP settings
(127.0.0.1 and the port, in `.storage/http`: Home Assistant 2026.10 treats an
`http:` YAML section as an unconfirmed trial that reverts to 0.0.0.0:8123 after
five minutes), the onboarding step `core_config` marked done (its API would set up
integrations that call the internet), an empty `automations.yaml`, and the
`custom_components/print_sentinel` symlink to the repository's folder.

`up` waits until Home Assistant answers, onboards it on the first run (owner `dev`,
password `dev`) or logs in, keeps a long-lived access token in
`<config>/.develop-token`, adds the simulated printer through the config flow when
it is missing or its address changed (the flow then updates the existing entry),
points the entry's options at the simulators (the printer's camera; the
OpenAI-compatible detector), waits for the printer's state sensor, creates the
printer's dashboard once (`devtools.dashboard`; made the default dashboard unless
one was chosen) and prints where everything is.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import socket
import sys
import time
from typing import Any

import aiohttp

from devtools import dashboard

LOOPBACK = "127.0.0.1"
DOMAIN = "print_sentinel"
DEV_NAME = "Developer"
DEV_USERNAME = "dev"
DEV_PASSWORD = "dev"  # noqa: S105 - documented login of the local instance
PRINTER_USERNAME = "maker"
TOKEN_FILE = ".develop-token"  # noqa: S105 - a file name
STATE_FILE = ".develop.json"
REPO = Path(__file__).resolve().parents[1]
FLOW = "/api/config/config_entries/flow"
OPTIONS_FLOW = "/api/config/config_entries/options/flow"


class DevelopError(Exception):
    """Setting up the local instance failed; the message says why."""


def log(message: str) -> None:
    """Tell the developer what happens (stderr, like the shell script's lines)."""
    sys.stderr.write(f"[develop] {message}\n")
    sys.stderr.flush()


# --- before Home Assistant starts ---------------------------------------------


def free_port(prefer: int | None = None) -> int:
    """Return `prefer` if nothing listens on it on loopback, else any free port.

    SO_REUSEADDR as the servers bind: connections of a run that just ended
    (TIME_WAIT) do not make a port busy.
    """
    for candidate in (prefer, 0):
        if candidate is None:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((LOOPBACK, candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise DevelopError("no free TCP port on 127.0.0.1")


def _http_settings(port: int, previous: Mapping[str, Any]) -> dict[str, Any]:
    """Return the confirmed HTTP settings: loopback and `port`, the rest kept."""
    return {
        "cors_allowed_origins": [],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": False,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
        **previous,
        "server_host": [LOOPBACK],
        "server_port": port,
    }


def prepare_config(config_dir: Path, port: int) -> None:
    """Write what Home Assistant must find in `config_dir` before it starts."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    http_file = storage / "http"
    previous: dict[str, Any] = {}
    if http_file.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            previous = dict(json.loads(http_file.read_text())["data"]["stable"])
    settings = _http_settings(port, previous)
    http_file.write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {
                    "stable": settings,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": ["core_config"]},
                }
            )
        )
    automations = config_dir / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n")
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = Path(os.path.relpath(REPO / "custom_components" / DOMAIN, custom))
    if link.is_symlink() and link.readlink() != target:
        link.unlink()
    if not link.is_symlink():
        if link.exists():
            raise DevelopError(f"{link} exists and is not a symlink: move it away")
        link.symlink_to(target, target_is_directory=True)


# --- talking to Home Assistant ------------------------------------------------


@dataclass
class HomeAssistantAPI:
    """Home Assistant's REST and websocket API at `url`, as the owner (`token`)."""

    session: aiohttp.ClientSession
    url: str
    token: str | None = None

    @property
    def client_id(self) -> str:
        """Return the frontend's client id (the instance's URL)."""
        return f"{self.url}/"

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: Mapping[str, str] | None = None,
        expect: Sequence[int] = (200,),
        auth: bool = True,
    ) -> tuple[int, Any]:
        """Send one request; return (status, JSON or text); fail on other statuses."""
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method,
            f"{self.url}{path}",
            json=body,
            data=form,
            headers=headers,
        ) as response:
            text = await response.text()
            if response.status not in expect:
                raise DevelopError(
                    f"{method} {path} answered HTTP {response.status}: {text[:500]}"
                )
            try:
                return response.status, json.loads(text) if text.strip() else None
            except ValueError:
                return response.status, text

    async def get(self, path: str) -> Any:
        """GET a REST resource as the owner."""
        return (await self.request("GET", path))[1]

    async def post(self, path: str, body: Any = None) -> Any:
        """POST to a REST resource as the owner."""
        return (await self.request("POST", path, body))[1]

    async def ws(self, message: Mapping[str, Any]) -> Any:
        """Send one websocket command as the owner and return its result."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (auth := await ws.receive_json())["type"] != "auth_ok":
                raise DevelopError(f"websocket login refused: {auth}")
            await ws.send_json({"id": 1, **message})
            while True:
                reply = await ws.receive_json(timeout=30)
                if reply.get("id") == 1 and reply.get("type") == "result":
                    break
        if not reply["success"]:
            raise DevelopError(f"websocket {message['type']}: {reply['error']}")
        return reply["result"]


def _alive(pid: int) -> bool:
    """Return True while process `pid` runs (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat[stat.rindex(")") + 2] != "Z"


async def wait_until_answering(
    ha: HomeAssistantAPI, pid: int | None, within: float
) -> None:
    """Wait until Home Assistant's HTTP API answers; fail if `pid` ends first."""
    deadline = time.monotonic() + within
    last = "no answer yet"
    while time.monotonic() < deadline:
        if pid is not None and not _alive(pid):
            raise DevelopError("Home Assistant exited (see its output above)")
        try:
            # 400 "onboarding_required" before the owner exists: up all the same
            status, _ = await ha.request(
                "GET", "/auth/providers", expect=(200, 400, 404, 502, 503), auth=False
            )
        except (aiohttp.ClientError, TimeoutError) as err:
            last = type(err).__name__
        else:
            if status in (200, 400):
                return
            last = f"HTTP {status}"
        await asyncio.sleep(1)
    raise DevelopError(f"Home Assistant did not answer within {within:.0f} s ({last})")


async def wait_for_simulator(
    session: aiohttp.ClientSession, url: str, within: float
) -> None:
    """Wait until a simulator's `/_sim/state` answers."""
    deadline = time.monotonic() + within
    while True:
        try:
            async with session.get(f"{url}/_sim/state") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise DevelopError(f"the simulator at {url} does not answer")
        await asyncio.sleep(0.5)


async def _exchange_code(ha: HomeAssistantAPI, code: str) -> str:
    _, tokens = await ha.request(
        "POST",
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": ha.client_id,
        },
        auth=False,
    )
    return str(tokens["access_token"])


async def _create_owner(ha: HomeAssistantAPI) -> str:
    """Do onboarding's user step; return an access token of the new owner."""
    _, created = await ha.request(
        "POST",
        "/api/onboarding/users",
        {
            "client_id": ha.client_id,
            "name": DEV_NAME,
            "username": DEV_USERNAME,
            "password": DEV_PASSWORD,
            "language": "en",
        },
        auth=False,
    )
    return await _exchange_code(ha, created["auth_code"])


async def _login(ha: HomeAssistantAPI) -> str:
    """Log in as `dev` with the login flow, as the login page does."""
    _, step = await ha.request(
        "POST",
        "/auth/login_flow",
        {
            "client_id": ha.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{ha.url}/?auth_callback=1",
        },
        auth=False,
    )
    _, result = await ha.request(
        "POST",
        f"/auth/login_flow/{step['flow_id']}",
        {
            "client_id": ha.client_id,
            "username": DEV_USERNAME,
            "password": DEV_PASSWORD,
        },
        auth=False,
    )
    if result.get("type") != "create_entry":
        raise DevelopError(
            f"cannot log in as {DEV_USERNAME}/{DEV_PASSWORD} ({result.get('errors')}); "
            "was the password changed? Remove config/.storage to start afresh"
        )
    return await _exchange_code(ha, str(result["result"]))


async def _token_works(ha: HomeAssistantAPI, token: str) -> bool:
    saved, ha.token = ha.token, token
    try:
        status, _ = await ha.request("GET", "/api/", expect=(200, 401, 403))
    finally:
        ha.token = saved
    return status == 200


async def ensure_owner_token(ha: HomeAssistantAPI, config_dir: Path) -> bool:
    """Onboard or log in; leave a working long-lived token in `ha.token` and on disk.

    Return True when this run onboarded the instance.
    """
    token_file = config_dir / TOKEN_FILE
    status, steps = await ha.request(
        "GET", "/api/onboarding", expect=(200, 404), auth=False
    )
    pending = (
        {s["step"] for s in steps if not s["done"]}
        if status == 200 and isinstance(steps, list)
        else set()
    )
    onboarded_now = "user" in pending
    stored = token_file.read_text().strip() if token_file.exists() else ""
    if onboarded_now:
        log(f"onboarding: creating the owner {DEV_USERNAME} / {DEV_PASSWORD}")
        ha.token = await _create_owner(ha)
        stored = ""
    elif stored and await _token_works(ha, stored):
        ha.token = stored
    else:
        log(f"logging in as {DEV_USERNAME}")
        ha.token = await _login(ha)
        stored = ""
    if "analytics" in pending:
        await ha.post("/api/onboarding/analytics", {})
    if "integration" in pending:
        await ha.post(
            "/api/onboarding/integration",
            {"client_id": ha.client_id, "redirect_uri": f"{ha.url}/?auth_callback=1"},
        )
    if not stored:
        stored = str(
            await ha.ws(
                {
                    "type": "auth/long_lived_access_token",
                    "client_name": f"scripts/develop {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
                    "lifespan": 3650,
                }
            )
        )
        token_file.write_text(stored + "\n")
        token_file.chmod(0o600)
        ha.token = stored
    return onboarded_now


async def wait_until_running(ha: HomeAssistantAPI, within: float) -> None:
    """Wait until Home Assistant has finished starting."""
    deadline = time.monotonic() + within
    while (state := (await ha.get("/api/config")).get("state")) != "RUNNING":
        if time.monotonic() > deadline:
            raise DevelopError(f"Home Assistant still {state} after {within:.0f} s")
        await asyncio.sleep(1)


# --- the printer ----------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    """What the printer's entry should point at."""

    printer: str
    printer_password: str
    snapshot_url: str
    openai_url: str | None
    openai_key: str | None


def form_values(step: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a form shows filled in: suggested values, else defaults."""
    values: dict[str, Any] = {}
    for field in step.get("data_schema") or []:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            values[field["name"]] = suggested
        elif "default" in field:
            values[field["name"]] = field["default"]
    return values


def _expect_form(step: Mapping[str, Any], step_id: str) -> None:
    if step.get("type") != "form" or step.get("step_id") != step_id:
        raise DevelopError(f"expected the form {step_id!r}, got {dict(step)}")
    if step.get("errors"):
        raise DevelopError(f"form {step_id!r} shows errors {step['errors']}")


async def add_printer(ha: HomeAssistantAPI, desired: Desired) -> dict[str, Any]:
    """Run the config flow for the PrusaLink printer; return its last step."""
    step = await ha.post(FLOW, {"handler": DOMAIN, "show_advanced_options": False})
    if step.get("type") != "menu":
        raise DevelopError(f"expected the printer-type menu, got {step}")
    step = await ha.post(f"{FLOW}/{step['flow_id']}", {"next_step_id": "prusalink"})
    _expect_form(step, "prusalink")
    return dict(
        await ha.post(
            f"{FLOW}/{step['flow_id']}",
            {
                "host": desired.printer,
                "username": PRINTER_USERNAME,
                "password": desired.printer_password,
            },
        )
    )


async def _options_section(
    ha: HomeAssistantAPI, entry_id: str, section: str, *updates: Mapping[str, Any]
) -> None:
    """Open the entry's options, pick `section`, fill its forms in turn and save."""
    step = await ha.post(OPTIONS_FLOW, {"handler": entry_id})
    if section not in step.get("menu_options", []):
        raise DevelopError(f"the options menu has no {section!r}: {step}")
    step = await ha.post(f"{OPTIONS_FLOW}/{step['flow_id']}", {"next_step_id": section})
    for update in updates:
        if step.get("type") != "form":
            raise DevelopError(f"options {section}: expected a form, got {step}")
        values = {**form_values(step), **update}
        step = await ha.post(f"{OPTIONS_FLOW}/{step['flow_id']}", values)
    if step.get("type") != "create_entry":
        raise DevelopError(f"options {section} not saved: {step}")


async def configure_options(
    ha: HomeAssistantAPI, entry_id: str, desired: Desired
) -> None:
    """Use the simulator's camera; detect failures with the OpenAI simulator."""
    await _options_section(
        ha, entry_id, "polling", {"snapshot_url": desired.snapshot_url}
    )
    if desired.openai_url and desired.openai_key:
        await _options_section(
            ha,
            entry_id,
            "detection",
            {"detector": "openai"},
            {
                "openai_base_url": desired.openai_url,
                "openai_api_key": desired.openai_key,
            },
        )


async def _entries(ha: HomeAssistantAPI) -> list[dict[str, Any]]:
    return list(await ha.get(f"/api/config/config_entries/entry?domain={DOMAIN}"))


async def ensure_printer(
    ha: HomeAssistantAPI, desired: Desired, config_dir: Path
) -> tuple[str, str]:
    """Add the printer or point its entry at the simulators; return (entry id, what)."""
    state_file = config_dir / STATE_FILE
    applied: dict[str, Any] = {}
    if state_file.exists():
        with contextlib.suppress(ValueError):
            applied = dict(json.loads(state_file.read_text()))
    entries = await _entries(ha)
    known = [e for e in entries if e["entry_id"] == applied.get("entry_id")]
    candidates = known or entries
    entry = candidates[0] if candidates else None
    what = "already configured"
    if entry is None or applied.get("printer") != desired.printer:
        log(f"adding the printer at {desired.printer} (config flow)")
        result = await add_printer(ha, desired)
        if result.get("type") == "create_entry":
            what = "printer added"
        elif result.get("type") == "abort" and result["reason"] in (
            "already_configured",
            "reauth_successful",
        ):
            what = "printer address updated"
        else:
            raise DevelopError(f"adding the printer failed: {result}")
        entries = await _entries(ha)
        if not entries:
            raise DevelopError("the config flow ended but there is no entry")
        entry = entries[0]
    entry_id = str(entry["entry_id"])
    wanted = asdict(desired)
    if applied.get("entry_id") != entry_id or applied.get("options") != wanted:
        log("setting the options: simulator camera, OpenAI-compatible detector")
        try:
            await configure_options(ha, entry_id, desired)
        except DevelopError as err:  # the printer works without them
            log(f"warning: options not set ({err}); set them in the UI")
        else:
            applied["options"] = wanted
    applied.update(entry_id=entry_id, printer=desired.printer)
    state_file.write_text(json.dumps(applied, indent=2) + "\n")
    return entry_id, what


async def wait_for_printer_state(
    ha: HomeAssistantAPI, entry_id: str, within: float
) -> tuple[str, str]:
    """Wait until the entry's printer-state sensor has a state; return (id, state)."""
    deadline = time.monotonic() + within
    entity_id, state = "", "not created yet"
    while time.monotonic() < deadline:
        if not entity_id:
            for item in await ha.ws({"type": "config/entity_registry/list"}):
                if (
                    item.get("config_entry_id") == entry_id
                    and item.get("platform") == DOMAIN
                    and item.get("translation_key") == "state"
                    and item["entity_id"].startswith("sensor.")
                ):
                    entity_id = item["entity_id"]
        if entity_id:
            status, data = await ha.request(
                "GET", f"/api/states/{entity_id}", expect=(200, 404)
            )
            if status == 200:
                state = data["state"]
                if state not in ("unavailable", "unknown"):
                    return entity_id, state
        await asyncio.sleep(1)
    return entity_id or "sensor.<printer>_printer_state", state


async def ensure_dashboard(ha: HomeAssistantAPI, entry_id: str, title: str) -> str:
    """Create the printer's dashboard once and make it the default; return its path.

    A dashboard that exists already is left as it is: it may hold the developer's
    own changes.
    """
    path = f"/{dashboard.URL_PATH}/{dashboard.VIEW_PATH}"
    existing = await ha.ws({"type": "lovelace/dashboards/list"})
    if any(item.get("url_path") == dashboard.URL_PATH for item in existing):
        return path
    log(f"creating the printer dashboard {path}")
    await ha.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": dashboard.URL_PATH,
            "title": dashboard.TITLE,
            "icon": "mdi:printer-3d-nozzle",
            "mode": "storage",
            "show_in_sidebar": True,
            "require_admin": False,
        }
    )
    registry = await ha.ws({"type": "config/entity_registry/list"})
    await ha.ws(
        {
            "type": "lovelace/config/save",
            "url_path": dashboard.URL_PATH,
            "config": dashboard.dashboard_config(
                dashboard.entities_by_key(registry, entry_id), title
            ),
        }
    )
    # the default dashboard for everyone, unless one was chosen already
    core = await ha.ws({"type": "frontend/get_system_data", "key": "core"})
    current = (core or {}).get("value") or {}
    if not current.get("default_panel"):
        await ha.ws(
            {
                "type": "frontend/set_system_data",
                "key": "core",
                "value": {**current, "default_panel": dashboard.URL_PATH},
            }
        )
    return path


async def up(args: argparse.Namespace, config_dir: Path, token_path: str) -> None:
    """Onboard, add the printer, wait for it, and print where everything is."""
    url = f"http://{LOOPBACK}:{args.port}"
    desired = Desired(
        printer=args.printer,
        printer_password=args.printer_password,
        snapshot_url=f"{args.printer}/camera/snapshot.jpg",
        openai_url=args.openai,
        openai_key=args.openai_key,
    )
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        ha = HomeAssistantAPI(session, url)
        await wait_until_answering(ha, args.hass_pid, args.timeout)
        onboarded = await ensure_owner_token(ha, config_dir)
        await wait_until_running(ha, args.timeout)
        await wait_for_simulator(session, args.printer, 30)
        entry_id, what = await ensure_printer(ha, desired, config_dir)
        entity_id, state = await wait_for_printer_state(ha, entry_id, 60)
        title = next(
            (e["title"] for e in await _entries(ha) if e["entry_id"] == entry_id),
            "Printer",
        )
        board = await ensure_dashboard(ha, entry_id, str(title))
    lines = [
        "",
        f"Print Sentinel develop: {'onboarded, ' if onboarded else ''}{what}",
        f"  Home Assistant  {url}   login {DEV_USERNAME} / {DEV_PASSWORD}",
        f"  Dashboard       {url}{board}",
        f"  API token       {token_path}",
        f'                  curl -H "Authorization: Bearer $(cat {token_path})" '
        f"{url}/api/states/{entity_id}",
        f"  Printer         {entity_id} = {state}",
        f"                  PrusaLink simulator {args.printer} "
        f"(user {PRINTER_USERNAME}, password {args.printer_password})",
        f"                  control: curl {args.printer}/_sim/state ; "
        f"curl -X POST {args.printer}/_sim/job",
        f"                  failure: curl -X POST {args.printer}/_sim/failure "
        """-d '{"start": 0, "kind": "spaghetti", "score": 90, "ramp": 60}'""",
    ]
    if args.openai:
        lines.append(f"  OpenAI sim      {args.openai} (key {args.openai_key})")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.ha", description=__doc__.split("\n", 1)[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    port = commands.add_parser("free-port", help="print a free loopback port")
    port.add_argument("--prefer", type=int, default=None)
    prepare = commands.add_parser("prepare", help="write the config before starting")
    prepare.add_argument("--config", default="config")
    prepare.add_argument("--port", type=int, required=True)
    start = commands.add_parser("up", help="onboard and add the printer")
    start.add_argument("--config", default="config")
    start.add_argument("--port", type=int, required=True)
    start.add_argument("--hass-pid", type=int, default=None)
    start.add_argument("--timeout", type=float, default=900.0)
    start.add_argument("--printer", required=True, help="the PrusaLink base URL")
    start.add_argument("--printer-password", required=True)
    start.add_argument("--openai", default=None, help="OpenAI-compatible base URL")
    start.add_argument("--openai-key", default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 1 with a message on failure."""
    args = parse_args(argv)
    try:
        if args.command == "free-port":
            sys.stdout.write(f"{free_port(args.prefer)}\n")
        elif args.command == "prepare":
            prepare_config(Path(args.config), args.port)
        else:
            config_dir = Path(args.config).resolve()
            token_path = os.path.relpath(config_dir / TOKEN_FILE)
            asyncio.run(up(args, config_dir, token_path))
    except (DevelopError, aiohttp.ClientError, TimeoutError) as err:
        log(f"error: {err or type(err).__name__}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
