"""Print Sentinel through Home Assistant's own UI, in headless Chromium (Playwright).

A user logs in on Home Assistant's login page, adds the printer in Settings >
Devices & services (a wrong password, an impossible address, then the right one),
opens every options page and every detector's form, the device page, the blueprint
list and the dashboard `scripts/develop` makes. Each step leaves a screenshot in
`out/e2e-browser/screenshots/` (printed at the end); each test fails on text a user
should never see (a "Translation error", a raw translation key), a 5xx from the API
or a console error naming print_sentinel.

This module has its own Home Assistant (and output directory) beside
test_home_assistant.py's; its configuration adds `automation:` so the blueprint
list exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import shutil
from typing import Any

import aiohttp
import pytest

from devtools import dashboard
from devtools.ha import HomeAssistantAPI, ensure_dashboard

from . import harness
from .client import HomeAssistantClient
from .conftest import allow_sockets
from .flows import config_entries, printer_entities, wait_for_entry_loaded
from .harness import (
    PRINTER_PASSWORD,
    REPO,
    HomeAssistantInstance,
    ProcessGroup,
    Simulator,
)
from .ui import UiPage, logged_in_page

pytestmark = pytest.mark.e2e

UI_USERNAME = "browser"
UI_PASSWORD = "browser-e2e-password"


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """This module's own output directory (test_home_assistant.py wipes `out/e2e`)."""
    out = REPO / "out" / "e2e-browser"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


@pytest.fixture(scope="module")
def home_assistant(
    processes: ProcessGroup, output_dir: Path
) -> Iterator[HomeAssistantInstance]:
    """Home Assistant as conftest starts it, plus `automation:` (blueprints)."""
    write = harness.write_configuration

    def with_automation(config_dir: Path, port: int) -> None:
        write(config_dir, port)
        with (config_dir / "configuration.yaml").open("a") as yaml:
            yaml.write("automation: []\n")

    allow_sockets()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness, "write_configuration", with_automation)
        url, managed = harness.start_home_assistant(
            processes, output_dir / "config", output_dir
        )
    hass = harness.onboard(url, managed, output_dir / "config")
    harness.wait_until_running(hass)
    yield hass


def pytest_socket_enable() -> None:
    """Sockets on for the module fixture (conftest's `allow_sockets`)."""
    from .conftest import allow_sockets

    allow_sockets()


@pytest.fixture
def screenshots(output_dir: Path, request: pytest.FixtureRequest) -> Path:
    """Where each step's screenshot goes: a folder per test."""
    name = str(request.node.name).removeprefix("test_")
    path = output_dir / "screenshots" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
async def ui_user(ha: HomeAssistantClient) -> tuple[str, str]:
    """An administrator who logs in with a password (the onboarded owner's is random)."""
    users = await ha.ws({"type": "config/auth/list"})
    if not any(UI_USERNAME in (u.get("username") or "") for u in users):
        user = await ha.ws(
            {
                "type": "config/auth/create",
                "name": "Browser Tester",
                "group_ids": ["system-admin"],
                "local_only": True,
            }
        )
        await ha.ws(
            {
                "type": "config/auth_provider/homeassistant/create",
                "user_id": user["user"]["id"],
                "username": UI_USERNAME,
                "password": UI_PASSWORD,
            }
        )
    return UI_USERNAME, UI_PASSWORD


def assert_no_problems(ui: UiPage) -> None:
    """Fail with every problem the page recorded, and where the screenshots are."""
    print(f"screenshots: {ui.screenshots}")
    assert not ui.problems, (
        "\n".join(ui.problems) + f"\n(screenshots: {ui.screenshots})"
    )


async def _submit(ui: UiPage) -> None:
    await ui.dialog().get_by_role("button", name="Submit").click()


async def test_add_printer_through_the_ui(
    home_assistant: HomeAssistantInstance,
    prusalink: Simulator,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],
    screenshots: Path,
) -> None:
    """Settings > Devices & services > Add integration > Print Sentinel > PrusaLink."""
    host = prusalink.url.removeprefix("http://")
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        page = ui.page
        await ui.goto("/config/integrations/dashboard")
        await ui.step("integrations")
        await page.get_by_role("button", name="Add integration").click()
        await page.get_by_placeholder("Search").first.fill("Print Sentinel")
        await page.get_by_text("Print Sentinel", exact=True).first.click()
        dialog = ui.dialog()
        await ui.expect_text("What kind of printer", dialog)
        await ui.step("config-menu")
        await dialog.get_by_text("Prusa printer with PrusaLink").click()
        await ui.expect_text("Prusa printer (PrusaLink)", dialog)
        await dialog.get_by_role("textbox", name="Host").fill(host)
        await dialog.get_by_role("textbox", name="Username").fill("maker")
        await dialog.get_by_role("textbox", name="Password").fill("not-the-password")
        await ui.step("config-form")
        await _submit(ui)
        await ui.expect_text("The printer refused the credentials", dialog)
        await ui.step("config-wrong-password")

        await dialog.get_by_role("textbox", name="Host").fill("127.0.0.1:99999")
        await dialog.get_by_role("textbox", name="Password").fill(PRINTER_PASSWORD)
        await _submit(ui)
        # an impossible port is refused by name; a crash is caught as a 5xx
        await ui.check_text("This is not a valid IP address", dialog)
        await ui.step("config-bad-host")

        await dialog.get_by_role("textbox", name="Host").fill(host)
        await dialog.get_by_role("textbox", name="Password").fill(PRINTER_PASSWORD)
        await _submit(ui)
        # created: the device's "Name and assign" step
        await ui.expect_text("Skip and finish")
        await ui.step("config-success")
        await ui.page.get_by_role("button", name="Skip and finish").click()
        assert_no_problems(ui)
    await wait_for_entry_loaded(ha)


OPTION_PAGES = [
    ("Polling and camera", "polling"),
    ("AI failure detection", "detection"),
    ("Prusa Connect snapshot upload", "connect"),
]
DETECTORS = [
    ("OpenAI-compatible vision model", "detector_openai"),
    ("Home Assistant AI Task", "detector_ai_task"),
    ("OctoEverywhere Gadget", "detector_gadget"),
    ("PrintWatch", "detector_printwatch"),
]


async def _open_options(ui: UiPage, entry_id: str) -> None:
    """Open the entry's options (the integration page's Configure)."""
    await ui.goto("/config/integrations/integration/print_sentinel")
    await ui.page.get_by_role("button", name="Configure").first.click()
    await ui.expect_text("Print Sentinel options", ui.dialog())


async def test_every_options_page_and_detector(
    home_assistant: HomeAssistantInstance,
    prusalink: Simulator,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],
    screenshots: Path,
) -> None:
    """Each options section and each detector's form renders its translated text."""
    (entry,) = await config_entries(ha)
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        dialog = ui.dialog()
        for label, step in OPTION_PAGES:
            await _open_options(ui, entry["entry_id"])
            await ui.step("options-menu")
            await dialog.get_by_text(label, exact=True).click()
            await ui.expect_text(label, dialog)
            await ui.step(f"options-{step}")
            if step == "polling":
                # the snapshot URL is fetched once: nonsense is refused by name
                await dialog.get_by_role("textbox", name="Camera snapshot URL").fill(
                    "not a url"
                )
                await _submit(ui)
                await ui.expect_text("Enter the full address of the picture", dialog)
                await ui.step("options-polling-invalid-url")
                # the printer's camera is a JPEG: saved
                await dialog.get_by_role("textbox", name="Camera snapshot URL").fill(
                    f"{prusalink.url}/camera/snapshot.jpg"
                )
                await _submit(ui)
                await dialog.get_by_role("button", name="Finish").click()
                continue
            await ui.page.keyboard.press("Escape")
        for label, step in DETECTORS:
            await _open_options(ui, entry["entry_id"])
            await dialog.get_by_text("AI failure detection", exact=True).click()
            # the Detector dropdown shows "Off"; its list shows the choices
            await dialog.get_by_text("Detector", exact=False).first.click()
            await ui.page.get_by_text(label, exact=True).last.click()
            await _submit(ui)
            await ui.expect_text(label, dialog)
            await ui.step(f"options-{step}")
            await ui.page.keyboard.press("Escape")
        assert_no_problems(ui)


async def test_device_page_and_blueprints(
    home_assistant: HomeAssistantInstance,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],
    screenshots: Path,
) -> None:
    """The printer's device page names its entities; the blueprints are listed."""
    (entry,) = await config_entries(ha)
    entities = await printer_entities(ha, entry["entry_id"])
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        await ui.goto(f"/config/devices/device/{entities.device_id}")
        await ui.expect_text("Printer state")
        text = await ui.step("device")
        for name in ("Pause print", "Resume print", "Printer state"):
            assert name in text, f"the device page does not show {name!r}"
        await ui.goto("/config/blueprint/dashboard")
        await ui.expect_text("Print Sentinel: respond to a detected failure")
        await ui.step("blueprints")
        assert_no_problems(ui)


async def test_the_develop_dashboard_shows_the_printer(
    home_assistant: HomeAssistantInstance,
    ha: HomeAssistantClient,
    ui_user: tuple[str, str],
    screenshots: Path,
) -> None:
    """`scripts/develop`'s dashboard (devtools) is the default and shows the printer."""
    (entry,) = await config_entries(ha)
    entities = await printer_entities(ha, entry["entry_id"])
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantAPI(session, home_assistant.url, home_assistant.access_token)
        path = await ensure_dashboard(api, entry["entry_id"], entry["title"])
        config: dict[str, Any] = await api.ws(
            {"type": "lovelace/config", "url_path": dashboard.URL_PATH}
        )
    assert path == "/print-sentinel/printer"
    shown = str(config)
    for key in ("camera.camera", "sensor.state", "button.pause", "sensor.job_name"):
        assert entities[key] in shown, f"the dashboard lacks {key}"
    async with logged_in_page(home_assistant.url, *ui_user, screenshots) as ui:
        await ui.goto("/")  # the default dashboard is the printer's
        await ui.expect_text("Printer state")
        text = await ui.step("dashboard")
        assert "/print-sentinel" in ui.page.url, ui.page.url
        for name in ("Printer state", "Job name", "Progress", "Pause print"):
            assert name in text, f"the dashboard does not show {name!r}"
        assert_no_problems(ui)
