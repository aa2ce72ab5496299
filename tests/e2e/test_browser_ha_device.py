"""Print Sentinel for a printer Home Assistant already has, added in the real frontend.

A newcomer with a Prusa printer in core's `prusalink` integration adds Print
Sentinel on top of it: Settings > Devices & services > Add integration > Print
Sentinel > "A printer already in Home Assistant…", picks core PrusaLink's device in
the device picker, finds the proposals of the core `prusalink` profile prefilled on
the next form ("What each entity of … does": the print state, the pause, resume and
stop buttons, the state-value lists) and submits them. The entry is created, and
the device page of core's device lists Print Sentinel's entities, its state sensor
saying "Printing" while the simulator prints.

Each step leaves a screenshot in `out/e2e-browser-ha-device/screenshots/<test>/`;
each test fails on text a user should never see ("Translation error", raw
`component.print_sentinel.` keys, `[%key:`), a 5xx from `/api/` or a console error
naming print_sentinel (`ui.UiPage`, as in test_browser_ui.py).

This module has its own Home Assistant (and output directory). Core's `prusalink`
(pyprusalink is in the venv, so `--skip-pip` loads it) is added over the REST API as
its config flow's form would submit it; only Print Sentinel's flow is clicked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
from pathlib import Path
import shutil
from typing import Any

import pytest

from . import harness
from .client import HomeAssistantClient, poll
from .conftest import allow_sockets
from .flows import FLOW, config_entries, printer_entities
from .ha_device_ui import (
    device_picker_label,
    device_picker_value,
    form_fields,
    pick_device,
    scroll_to,
)
from .harness import (
    PRINTER_PASSWORD,
    REPO,
    HomeAssistantInstance,
    ProcessGroup,
    Simulator,
)
from .test_browser_ui import assert_no_problems, ui_user  # noqa: F401 (fixture)
from .ui import logged_in_page

pytestmark = pytest.mark.e2e

STRINGS = json.loads(
    (REPO / "custom_components" / "print_sentinel" / "strings.json").read_text()
)
JOB_NAME = "Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode"
# core prusalink's entity (platform, unique-id suffix) the profile proposes per field
CORE_ROLES = {
    "state_entity": ("sensor", "_printer.state"),
    "pause_entity": ("button", "_job.pause_job"),
    "resume_entity": ("button", "_job.resume_job"),
    "stop_entity": ("button", "_printer.cancel_job"),
}
# what each of those pickers shows: core's entity names (its strings.json; the state
# sensor has no name of its own, so it shows the device's)
CORE_NAMES = {
    "state_entity": "{device}",
    "pause_entity": "Pause job",
    "resume_entity": "Resume job",
    "stop_entity": "Cancel job",
}
# Print Sentinel's entities as the device page names them (strings.json entity.*.name)
PRINT_SENTINEL_NAMES = (
    "Printer state",
    "Pause print",
    "Resume print",
    "Cancel print",
)
# the profile's state lists (printers/ha_profiles.py PRUSALINK), as the form shows them
STATE_LISTS = {
    "printing_states": ["printing"],
    "paused_states": ["paused"],
    "finished_states": ["finished"],
    "stopped_states": ["stopped"],
    "error_states": ["error"],
    "idle_states": ["idle", "ready"],
}
# the labels of those fields (strings.json config.step.ha_entities.data)
LABELS: dict[str, str] = STRINGS["config"]["step"]["ha_entities"]["data"]


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """This module's own output directory."""
    out = REPO / "out" / "e2e-browser-ha-device"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


@pytest.fixture(scope="module")
def home_assistant(
    processes: ProcessGroup, output_dir: Path
) -> Iterator[HomeAssistantInstance]:
    """Home Assistant as conftest starts it, in this module's directory."""
    allow_sockets()
    url, managed = harness.start_home_assistant(
        processes, output_dir / "config", output_dir
    )
    hass = harness.onboard(url, managed, output_dir / "config")
    harness.wait_until_running(hass)
    yield hass


@pytest.fixture
def screenshots(output_dir: Path, request: pytest.FixtureRequest) -> Path:
    """Where each step's screenshot goes: a folder per test."""
    name = str(request.node.name).removeprefix("test_")
    path = output_dir / "screenshots" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def ids() -> dict[str, Any]:
    """What the tests learn and pass on (core's device and entities, the entry)."""
    return {}


async def _core_entities(ha: HomeAssistantClient, entry_id: str) -> dict[str, Any]:
    registry = await ha.ws({"type": "config/entity_registry/list"})
    return {e["entity_id"]: e for e in registry if e["config_entry_id"] == entry_id}


async def test_core_prusalink_is_added_for_the_printing_simulator(
    ha: HomeAssistantClient, prusalink: Simulator, ids: dict[str, Any]
) -> None:
    """A print runs; core's `prusalink` flow (host, username, password) adds it."""
    await asyncio.to_thread(
        prusalink.control,
        "POST",
        "/_sim/job",
        {"display_name": JOB_NAME, "material": "PETG", "duration": 3600},
    )
    await asyncio.to_thread(
        prusalink.control, "POST", "/_sim/advance", {"seconds": 300}
    )
    step = await ha.post(FLOW, {"handler": "prusalink", "show_advanced_options": False})
    assert step["type"] == "form" and step["step_id"] == "user", step
    assert [f["name"] for f in step["data_schema"]] == ["host", "username", "password"]
    result = await ha.post(
        f"{FLOW}/{step['flow_id']}",
        {"host": prusalink.url, "username": "maker", "password": PRINTER_PASSWORD},
    )
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]

    async def state() -> str:
        entries = await ha.get("/api/config/config_entries/entry?domain=prusalink")
        return str(next(e["state"] for e in entries if e["entry_id"] == entry_id))

    loaded = await poll(
        state,
        lambda s: s not in ("not_loaded", "setup_in_progress"),
        within=60,
        what="core's prusalink entry set up",
    )
    assert loaded == "loaded", f"core prusalink is {loaded}: {ha.hass.last_error()}"
    entities = await _core_entities(ha, entry_id)
    core: dict[str, str] = {}
    for field, (platform, suffix) in CORE_ROLES.items():
        matches = [
            eid
            for eid, e in entities.items()
            if eid.startswith(f"{platform}.") and e["unique_id"].endswith(suffix)
        ]
        assert len(matches) == 1, f"core prusalink has no {field}: {sorted(entities)}"
        core[field] = matches[0]
    devices = {e["device_id"] for e in entities.values()}
    assert len(devices) == 1, devices
    ids["core"] = core
    ids["core_device"] = devices.pop()
    device = next(
        d
        for d in await ha.ws({"type": "config/device_registry/list"})
        if d["id"] == ids["core_device"]
    )
    ids["device_name"] = device["name_by_user"] or device["name"]
    await ha.wait_for_state(
        core["state_entity"], lambda s: s["state"] == "printing", what="printing"
    )


async def test_add_print_sentinel_for_core_prusalink_in_the_ui(
    home_assistant: HomeAssistantInstance,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],  # noqa: F811 (the fixture)
    screenshots: Path,
    ids: dict[str, Any],
) -> None:
    """Add integration > Print Sentinel > a printer already in HA > core's device."""
    device_name = ids["device_name"]
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        page = ui.page
        await ui.goto("/config/integrations/dashboard")
        await ui.step("integrations")
        await page.get_by_role("button", name="Add integration").click()
        # the dashboard has a search field of its own (core PrusaLink is listed)
        await page.get_by_placeholder("Search for a brand name").fill("Print Sentinel")
        await page.get_by_text("Print Sentinel", exact=True).first.click()
        dialog = ui.dialog()
        await ui.expect_text("What kind of printer", dialog)
        await ui.step("config-menu")
        option = STRINGS["config"]["step"]["user"]["menu_options"]["ha_device"]
        await dialog.get_by_text(option, exact=True).click()
        # strings.json config.step.ha_device
        await ui.expect_text("Pick the printer's device", dialog)
        text = await ui.step("ha-device-form")
        # the picker shows its label only once a device is picked (the frontend's
        # placeholder "Select a device" until then); it is its accessible name
        step = STRINGS["config"]["step"]["ha_device"]
        for label in (step["data"]["name"], *step["data_description"].values()):
            assert label in text, f"the device form does not show {label!r}"
        assert await device_picker_label(ui) == step["data"]["device_id"]
        row = await pick_device(ui, device_name)
        # the picker's row names the device's integration: the newcomer's PrusaLink
        assert "PrusaLink" in row, f"the device picker shows {row!r}"
        await ui.step("ha-device-picked")
        shown = await device_picker_value(ui)
        assert step["data"]["device_id"] in shown and device_name in shown, shown
        await dialog.get_by_role("button", name="Submit").click()

        await ui.expect_text(f"What each entity of {device_name} does", dialog)
        text = await ui.step("ha-entities-form")
        assert "Proposed from: PrusaLink" in text, text[-3000:]
        assert "The print state is now printing" in text, text[-3000:]
        # every field has its translated label and help text (strings.json
        # config.step.ha_entities), none shows a bare key
        step = STRINGS["config"]["step"]["ha_entities"]
        pickers = await form_fields(ui, "ha-selector-entity")
        lists = await form_fields(ui, "ha-selector-select")
        expected = {step["data"][key] for key in step["data"]}
        assert set(pickers) | set(lists) == expected, (sorted(pickers), sorted(lists))
        for key, help_text in step["data_description"].items():
            assert help_text in text, f"{key}: the form does not show {help_text!r}"
        for field, name in CORE_NAMES.items():
            shown_name = name.format(device=device_name)
            picker = pickers.get(LABELS[field])
            assert picker is not None, f"no entity field {LABELS[field]!r}: {pickers}"
            assert picker["value"] == ids["core"][field], (
                f"{LABELS[field]!r} holds {picker['value']!r}, "
                f"not core's {ids['core'][field]}"
            )
            assert shown_name in picker["shown"], (
                f"{LABELS[field]!r} shows {picker['shown']}, not {shown_name!r}"
            )
        await scroll_to(ui, "ha-selector-entity", len(pickers) - 1)
        await ui.step("ha-entities-optional")
        for field, values in STATE_LISTS.items():
            select = lists.get(LABELS[field])
            assert select is not None, f"no state list {LABELS[field]!r}: {lists}"
            assert sorted(select["value"] or []) == sorted(values), (field, select)
            chips = [" ".join(chip) for chip in select["chips"]]
            assert sorted(chips) == sorted(values), (
                f"{LABELS[field]!r} shows {chips}, the profile proposes {values}"
            )
        await scroll_to(ui, "ha-selector-select", len(lists) - 1)
        await ui.step("ha-entities-checked")
        await dialog.get_by_role("button", name="Submit").click()
        # created: Print Sentinel has no device of its own here (its entities join
        # core's), so there is no "Name and assign" step, just the success dialog
        await ui.expect_text(f"Created configuration for {device_name}", dialog)
        await ui.step("config-success")
        await dialog.get_by_role("button", name="Finish").click()
        # the dialog closes; the integrations dashboard has Print Sentinel's card
        await dialog.get_by_text("Created configuration").wait_for(state="hidden")
        await ui.page.get_by_text("Print Sentinel", exact=True).first.wait_for()
        await ui.step("integrations-with-print-sentinel")
        assert_no_problems(ui)

    entries = await poll(
        lambda: config_entries(ha),
        lambda found: (
            bool(found) and found[0]["state"] not in ("not_loaded", "setup_in_progress")
        ),
        within=30,
        what="the Print Sentinel entry set up",
    )
    assert len(entries) == 1, entries
    assert entries[0]["state"] == "loaded", f"{entries}: {ha.hass.last_error()}"
    assert entries[0]["title"] == device_name, entries
    ids["entry"] = entries[0]["entry_id"]


async def test_core_device_page_shows_print_sentinels_entities(
    home_assistant: HomeAssistantInstance,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],  # noqa: F811 (the fixture)
    screenshots: Path,
    ids: dict[str, Any],
) -> None:
    """Core's device page lists Print Sentinel's entities; its state says Printing."""
    entities = await printer_entities(ha, ids["entry"])
    assert entities.device_id == ids["core_device"], entities
    await ha.wait_for_state(
        entities["sensor.state"], lambda s: s["state"] == "printing", what="printing"
    )
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        await ui.goto(f"/config/devices/device/{ids['core_device']}")
        await ui.expect_text("Printer state")
        text = await ui.step("device")
        (screenshots / "device.txt").write_text(text)
        # Print Sentinel's entities (strings.json entity.*.name) beside core's
        for name in PRINT_SENTINEL_NAMES:
            assert name in text, f"the device page does not show {name!r}"
        # its state sensor's row: the name, then the translated state
        # (strings.json entity.sensor.state.state.printing)
        assert "Printer state\nPrinting" in text, _around(text, "Printer state")
        assert_no_problems(ui)


def _around(text: str, needle: str, chars: int = 300) -> str:
    at = text.find(needle)
    return text[max(at - chars, 0) : at + chars] if at >= 0 else text[-2000:]


async def test_home_assistant_logged_no_errors_from_print_sentinel(
    home_assistant: HomeAssistantInstance,
) -> None:
    """No ERROR from Print Sentinel (or core's prusalink), no misuse HA detected."""
    names = ("custom_components.print_sentinel", "custom_components/print_sentinel")
    errors = [
        record
        for record in home_assistant.error_records()
        if any(name in record for name in names)
        or "homeassistant.components.prusalink" in record.split("\n", 1)[0]
    ]
    assert not errors, "Home Assistant logged errors:\n" + "\n\n".join(errors)
    misuse = [
        record
        for record in home_assistant.log_records()
        if "Detected" in record.split("\n", 1)[0]
        and "print_sentinel" in record.split("\n", 1)[0]
    ]
    assert not misuse, "Home Assistant flagged print_sentinel:\n" + "\n\n".join(misuse)


def test_nothing_of_the_run_is_left_running(processes: ProcessGroup) -> None:
    """Stop Home Assistant, the simulator and Chromium; no process of this run survives."""
    assert processes.processes, "the module started no process"
    processes.stop_all()
    assert processes.survivors() == []
