"""Print Sentinel watching a real OctoPrint through core's `octoprint` integration.

A real OctoPrint 1.11 (`.venv-octoprint`, made by scripts/setup-octoprint) with its
Virtual Printer, on loopback (in a network namespace of its own where `unshare -n`
works: its discovery plugin announces itself by mDNS/SSDP), and a real Home
Assistant of this module's own. The story, in order:

1. core's OctoPrint integration is added through its own config flow; its app key
   request is approved in OctoPrint as a person would (log in, "Allow");
2. core's entities appear (current state, pause/resume/stop buttons, camera: the
   OctoPrint webcam, whose stream URL is the PrusaLink simulator's camera);
3. Print Sentinel is added for core's device (`ha_device`, then `ha_entities` with
   the proposals of its profile for core `octoprint`, submitted as the UI would);
4. a print started on the Virtual Printer shows as `printing` in Print Sentinel;
   the AI (OpenAI-compatible simulator) sees spaghetti on the camera and Print
   Sentinel presses core's pause button exactly once: OctoPrint says `Paused`.

Skipped when OctoPrint could not be installed (no `.venv-octoprint`), and under
scripts/test-newest-ha (`PRINT_SENTINEL_E2E_PIP=1`): that run is about Home
Assistant installing Print Sentinel's requirements; this module would add minutes
to it and core's `octoprint` requirement, not ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.util import find_spec
import json
from pathlib import Path
import shutil
import time
from typing import Any

import pytest

from .client import HomeAssistantClient, poll
from .conftest import allow_sockets
from .flows import (
    DOMAIN,
    expect_step,
    field_names,
    flow_step,
    printer_entities,
    run_options_section,
    start_config_flow,
)
from .harness import (
    OPENAI_API_KEY,
    REPO,
    HomeAssistantInstance,
    ProcessGroup,
    Simulator,
    listening_addresses,
    pip_enabled,
)
from .octoprint_flows import (
    CORE_DOMAIN,
    StateChanges,
    add_core_octoprint,
    core_entities,
)
from .octoprint_server import (
    OCTOPRINT_PASSWORD,
    OCTOPRINT_USER,
    OctoPrintServer,
    OctoPrintSession,
    dwell_gcode,
    octoprint_missing,
    start_octoprint,
)

if (_missing := octoprint_missing()) is not None:
    pytest.skip(_missing, allow_module_level=True)
if pip_enabled():
    pytest.skip(
        "OctoPrint e2e runs on the pinned Home Assistant only (scripts/test runs it); "
        "not under scripts/test-newest-ha (PRINT_SENTINEL_E2E_PIP=1)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e

CHECK_INTERVAL = 10
"""Seconds between AI checks: the smallest the options allow."""
PRINT_SECONDS = 900
"""How long the print lasts on the Virtual Printer (G4 dwells): past the test's end."""
GCODE_NAME = "sentinel_e2e_benchy.gcode"

CORE_ROLES = {
    # Print Sentinel's ha_entities field -> core OctoPrint's entity (platform, suffix)
    "state_entity": ("sensor", "current_state"),
    "pause_entity": ("button", "pause_job"),
    "resume_entity": ("button", "resume_job"),
    "stop_entity": ("button", "stop_job"),
    "camera_entity": ("camera", "camera"),
}


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """This module's own output directory (test_home_assistant.py wipes `out/e2e`)."""
    out = REPO / "out" / "e2e-octoprint"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


@pytest.fixture(scope="module")
def octoprint(
    processes: ProcessGroup,
    output_dir: Path,
    prusalink: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> OctoPrintServer:
    """Start OctoPrint (basedir in a tmp dir); its webcam is the simulator's camera."""
    allow_sockets()
    return start_octoprint(
        processes,
        tmp_path_factory.mktemp("octoprint-basedir"),
        output_dir,
        webcam_stream_url=f"{prusalink.url}/camera/snapshot.jpg",
    )


@pytest.fixture(scope="module")
def octoprint_api(octoprint: OctoPrintServer) -> OctoPrintSession:
    """Log in to OctoPrint as its admin and connect the Virtual Printer."""
    allow_sockets()
    session = OctoPrintSession(octoprint.url, OCTOPRINT_USER, OCTOPRINT_PASSWORD)
    session.connect_virtual_printer()
    return session


class Learned(dict[str, Any]):
    """What the tests learn in turn; a later test skips when an earlier one failed."""

    def __missing__(self, key: str) -> Any:
        pytest.skip(f"an earlier test of this module did not get as far as {key!r}")


@pytest.fixture(scope="module")
def ids() -> dict[str, Any]:
    """What the tests learn in turn: entry ids, entity ids."""
    return Learned()


@pytest.fixture(scope="module", autouse=True)
def module_timer(output_dir: Path) -> Iterator[None]:
    """Note how long the module took (out/e2e-octoprint/duration.txt)."""
    start = time.monotonic()
    yield
    (output_dir / "duration.txt").write_text(f"{time.monotonic() - start:.0f} s\n")


async def _octo(session: OctoPrintSession, method: str, *args: Any) -> Any:
    """Call an OctoPrintSession method without blocking the event loop."""
    return await asyncio.to_thread(getattr(session, method), *args)


async def _refresh(ha: HomeAssistantClient, entity_id: str) -> None:
    """Make core's coordinator poll OctoPrint now (it polls every 30 s)."""
    await ha.post("/api/services/homeassistant/update_entity", {"entity_id": entity_id})


def _octoprint_log_count(octoprint: OctoPrintServer, line: str) -> int:
    """Count OctoPrint's log lines containing `line` (its stdout: octoprint.log)."""
    return octoprint.process.log_path.read_text(errors="replace").count(line)


PAUSE_COMMAND = "Pausing/resuming job on behalf of user"
"""What OctoPrint logs for each pause (or resume) command it receives."""
PAUSED = "Print job paused"


def test_octoprint_runs_on_loopback_with_the_virtual_printer(
    octoprint: OctoPrintServer, octoprint_api: OctoPrintSession
) -> None:
    """OctoPrint listens on 127.0.0.1 only; isolated, its namespace has only `lo`."""
    assert find_spec("pyoctoprintapi") is not None, (
        "core's octoprint requirement pyoctoprintapi is not in .venv: "
        "run scripts/setup-octoprint"
    )
    pid = octoprint.process.process.pid
    listening = listening_addresses(pid)
    assert listening, "OctoPrint listens on nothing"
    assert {host for host, _ in listening} == {"127.0.0.1"}, listening
    assert ("127.0.0.1", octoprint.port) in listening
    if octoprint.isolated:
        devices = [
            line.split(":")[0].strip()
            for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
        ]
        assert devices == ["lo"], devices
    assert octoprint_api.get("/api/connection")["current"]["port"] == "VIRTUAL"
    assert octoprint_api.job_state() == "Operational"


async def test_add_core_octoprint_through_its_config_flow(
    ha: HomeAssistantClient,
    octoprint: OctoPrintServer,
    octoprint_api: OctoPrintSession,
    ids: dict[str, Any],
) -> None:
    """Add integration > OctoPrint; the key request is allowed in OctoPrint; entry loads."""
    result = await add_core_octoprint(
        ha,
        host="127.0.0.1",
        port=octoprint.port,
        username=OCTOPRINT_USER,
        approve=octoprint_api.approve_app_key,
    )
    expect_step(result, "create_entry")
    entry_id = result["result"]["entry_id"]
    ids["core_entry"] = entry_id

    async def entry_state() -> str:
        entries = await ha.get(f"/api/config/config_entries/entry?domain={CORE_DOMAIN}")
        return str(next(e["state"] for e in entries if e["entry_id"] == entry_id))

    state = await poll(
        entry_state,
        lambda s: s not in ("not_loaded", "setup_in_progress"),
        within=60,
        what="core's OctoPrint entry set up",
    )
    assert state == "loaded", (
        f"core's OctoPrint entry is {state}: {ha.hass.last_error()}"
    )
    # OctoPrint now knows Home Assistant's key
    keys = await _octo(octoprint_api, "get", "/api/plugin/appkeys")
    assert [k["app_id"] for k in keys["keys"]] == ["Home Assistant"], keys


async def test_core_octoprint_entities_show_the_printer(
    ha: HomeAssistantClient, ids: dict[str, Any]
) -> None:
    """Core's state sensor, job buttons and the OctoPrint webcam's camera exist and work."""
    entities = await poll(
        lambda: core_entities(ha, ids["core_entry"]),
        lambda found: all(
            any(
                e.startswith(f"{platform}.") and e.endswith(suffix)
                for e in found.entity_ids
            )
            for platform, suffix in CORE_ROLES.values()
        ),
        within=60,
        what="core OctoPrint's state sensor, buttons and camera",
    )
    ids["core_device"] = entities.device_id
    ids["core"] = {
        field: entities.ending(platform, suffix)
        for field, (platform, suffix) in CORE_ROLES.items()
    }
    await ha.wait_for_state(
        ids["core"]["state_entity"],
        lambda s: s["state"] == "operational",
        within=60,
        what="operational",
    )
    camera = await ha.wait_for_state(
        ids["core"]["camera_entity"],
        lambda s: s["state"] not in ("unavailable", "unknown"),
        what="a working camera",
    )
    # core's camera asks the webcam's stream URL for `?action=snapshot`: the simulator
    status, content_type, body = await ha.fetch(camera["attributes"]["entity_picture"])
    assert status == 200, (status, body[:200])
    assert content_type.startswith("image/jpeg")
    assert body[:2] == b"\xff\xd8"


async def test_add_print_sentinel_for_the_octoprint_device(
    ha: HomeAssistantClient, ids: dict[str, Any]
) -> None:
    """Add integration > Print Sentinel > a device Home Assistant has: the proposals fit."""
    step = expect_step(await start_config_flow(ha), "menu", "user")
    assert "ha_device" in step["menu_options"], step
    step = expect_step(
        await flow_step(ha, step["flow_id"], {"next_step_id": "ha_device"}),
        "form",
        "ha_device",
    )
    assert "device_id" in field_names(step), step
    step = expect_step(
        await flow_step(ha, step["flow_id"], {"device_id": ids["core_device"]}),
        "form",
        "ha_entities",
    )
    assert not step.get("errors"), step
    suggested = {
        field["name"]: field["description"]["suggested_value"]
        for field in step["data_schema"]
        if (field.get("description") or {}).get("suggested_value") not in (None, "")
    }
    # the profile for core's octoprint proposed its entities for the roles
    proposed = {field: suggested.get(field) for field in CORE_ROLES}
    assert proposed == ids["core"], (
        f"proposed {proposed}, core has {ids['core']}; all suggestions: {suggested}"
    )
    for key in ("printing_states", "paused_states"):
        assert isinstance(suggested.get(key), list) and suggested[key], suggested
    ids["suggested"] = suggested

    result = await flow_step(ha, step["flow_id"], suggested)  # submitted as shown
    expect_step(result, "create_entry")
    ids["entry"] = result["result"]["entry_id"]

    async def loaded() -> str:
        entries = await ha.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
        return str(next(e["state"] for e in entries if e["entry_id"] == ids["entry"]))

    state = await poll(
        loaded,
        lambda s: s not in ("not_loaded", "setup_in_progress"),
        within=60,
        what="the Print Sentinel entry set up",
    )
    assert state == "loaded", (
        f"Print Sentinel's entry is {state}: {ha.hass.last_error()}"
    )
    entities = await printer_entities(ha, ids["entry"])
    # Print Sentinel's entities join the printer's device (core's)
    assert entities.device_id == ids["core_device"], entities


async def test_print_on_octoprint_shows_as_printing(
    ha: HomeAssistantClient, octoprint_api: OctoPrintSession, ids: dict[str, Any]
) -> None:
    """Upload and print a long G-code on the Virtual Printer: Print Sentinel says printing."""
    await _octo(octoprint_api, "upload", GCODE_NAME, dwell_gcode(PRINT_SECONDS))
    await _octo(
        octoprint_api,
        "post",
        f"/api/files/local/{GCODE_NAME}",
        {"command": "select", "print": True},
    )
    await poll(
        lambda: _octo(octoprint_api, "job_state"),
        lambda state: state == "Printing",
        within=30,
        what="OctoPrint printing",
    )
    core_state = ids["core"]["state_entity"]
    await _refresh(ha, core_state)
    await ha.wait_for_state(
        core_state, lambda s: s["state"] == "printing", what="printing"
    )
    entities = await printer_entities(ha, ids["entry"])
    await ha.wait_for_state(
        entities["sensor.state"], lambda s: s["state"] == "printing", what="printing"
    )


async def _configure_openai_detection(
    ha: HomeAssistantClient, entry_id: str, openai: Simulator, camera: str
) -> dict[str, Any]:
    """Options > Failure detection > OpenAI-compatible, pointed at the simulator."""
    return await run_options_section(
        ha,
        entry_id,
        "detection",
        {
            "detector": "openai",
            "detection_camera": camera,
            "check_interval": CHECK_INTERVAL,
            "frame_count": 1,
            "sensitivity": "high",
            "policy": "sentinel",
            "failure_action": "pause",
            "warning_action": "notify",
            "resume_grace": 0,
        },
        {
            "openai_api_key": OPENAI_API_KEY,
            "openai_base_url": f"{openai.url}/v1",
            "openai_model": "gpt-4.1-nano",
            "openai_image_detail": "low",
        },
    )


async def test_failed_print_is_paused_once_through_cores_button(
    ha: HomeAssistantClient,
    octoprint: OctoPrintServer,
    octoprint_api: OctoPrintSession,
    prusalink: Simulator,
    openai_simulator: Simulator,
    ids: dict[str, Any],
    output_dir: Path,
) -> None:
    """The webcam shows spaghetti: Print Sentinel presses core's Pause once; OctoPrint pauses."""
    pause_button = ids["core"]["pause_entity"]
    camera = ids["core"]["camera_entity"]
    await asyncio.to_thread(
        prusalink.control, "POST", "/_sim/scene", {"failure": 0, "kind": "none"}
    )
    result = await _configure_openai_detection(
        ha, ids["entry"], openai_simulator, camera
    )
    expect_step(result, "create_entry")
    entities = await printer_entities(ha, ids["entry"])
    await ha.wait_for_state(
        entities["sensor.state"], lambda s: s["state"] == "printing", what="printing"
    )
    assert await _octo(octoprint_api, "job_state") == "Printing"
    commands_before = _octoprint_log_count(octoprint, PAUSE_COMMAND)
    paused_before = _octoprint_log_count(octoprint, PAUSED)

    async with StateChanges(ha, {pause_button}) as changes:
        await asyncio.to_thread(
            prusalink.control,
            "POST",
            "/_sim/scene",
            {"failure": 95, "kind": "spaghetti"},
        )
        # The default policy ignores the first minutes after the monitor saw the print
        # start (quiet period), then needs consecutive bad checks.
        try:
            await poll(
                lambda: _octo(octoprint_api, "job_state"),
                lambda state: state == "Paused",
                within=300,
                what="OctoPrint paused by Print Sentinel",
                interval=1,
            )
        finally:
            diagnostics = await ha.get(f"/api/diagnostics/config_entry/{ids['entry']}")
            await asyncio.to_thread(
                (output_dir / "diagnostics-failed-print.json").write_text,
                json.dumps(diagnostics, indent=2),
            )
        # two more checks' worth of time: the decision latches, no second pause
        await asyncio.sleep(2 * CHECK_INTERVAL + 2)
    assert await _octo(octoprint_api, "job_state") == "Paused"
    assert len(changes.presses(pause_button)) == 1, changes.events
    # OctoPrint received one pause command and paused once
    assert _octoprint_log_count(octoprint, PAUSE_COMMAND) - commands_before == 1
    assert _octoprint_log_count(octoprint, PAUSED) - paused_before == 1
    entities = await printer_entities(ha, ids["entry"])  # detection's are new
    detected = await ha.state(entities["binary_sensor.failure_detected"])
    assert detected["state"] == "on", detected
    await _refresh(ha, ids["core"]["state_entity"])
    await ha.wait_for_state(
        entities["sensor.state"], lambda s: s["state"] == "paused", what="paused"
    )
    # the AI was shown the spaghetti the OctoPrint webcam saw
    requests = await asyncio.to_thread(
        openai_simulator.control, "GET", "/_sim/requests"
    )
    seen = {
        tuple(scene)
        for request in requests
        if request["method"] == "POST" and request["path"].endswith("/chat/completions")
        for scene in request.get("scenes", [])
    }
    assert (95, "spaghetti") in seen, seen


def test_home_assistant_logged_no_errors_from_print_sentinel_or_octoprint(
    home_assistant: HomeAssistantInstance,
) -> None:
    """Neither Print Sentinel nor core's OctoPrint logged an error along the way."""
    # (the test machine's Python may live under a `print_sentinel` cache folder:
    # match the integrations' module names and paths, not the bare word)
    sources = (
        "custom_components.print_sentinel",
        "custom_components/print_sentinel",
        "homeassistant.components.octoprint",
        "homeassistant/components/octoprint",
        "[pyoctoprintapi",
    )
    errors = [
        record
        for record in home_assistant.error_records()
        if any(source in record for source in sources)
    ]
    assert not errors, "Home Assistant logged errors:\n" + "\n\n".join(errors)


def test_nothing_of_the_run_is_left_running(processes: ProcessGroup) -> None:
    """Stop Home Assistant, OctoPrint, its forwarder and the simulators: none survives."""
    assert processes.processes, "the module started no process"
    processes.stop_all()
    assert processes.survivors() == []
