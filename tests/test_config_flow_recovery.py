"""Every error a flow shows can be fixed in the same form, to the end of the flow.

A user who mistypes (or whose printer is still booting) corrects the form and gets
the entry; nothing they typed before makes the flow unusable. PrusaLink, Repetier-
Server, reauth, reconfigure and the options, each against the simulators.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    CONF_API_KEY,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    CONF_WEBCAM,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from simulators.prusalink import PrusaLinkSimulator
from simulators.repetier import RepetierSimulator

from .conftest import PRINTER_PASSWORD

REPETIER_KEY = "3f1e-recovery-Secret-key"
SERVER_UUID = "77777777-0000-4000-8000-00000000beef"


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[RepetierSimulator]:
    """A Repetier-Server with one printer (one webcam) on a free loopback port."""
    sim = RepetierSimulator(
        api_key=REPETIER_KEY, printers=[("mk3", "MK3")], server_uuid=SERVER_UUID
    )
    sim.websocket = False  # polled: what runs while push is down (push: tests/repetier/test_push.py)
    await sim.start("127.0.0.1", 0)
    yield sim
    await sim.stop()


async def _menu(hass: HomeAssistant, step: str) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step
    return result["flow_id"]


def _prusalink_input(printer: PrusaLinkSimulator, **changes: str) -> dict[str, str]:
    return {
        CONF_HOST: f"127.0.0.1:{printer.host_port[1]}",
        CONF_USERNAME: "maker",
        CONF_PASSWORD: PRINTER_PASSWORD,
        **changes,
    }


def _break_password(printer: PrusaLinkSimulator) -> dict[str, str]:
    return {CONF_PASSWORD: "wrong"}


def _break_host(printer: PrusaLinkSimulator) -> dict[str, str]:
    return {CONF_HOST: "http://"}


def _break_json(printer: PrusaLinkSimulator) -> dict[str, str]:
    printer.faults.malformed_json = True
    return {}


def _break_server(printer: PrusaLinkSimulator) -> dict[str, str]:
    printer.faults.server_error = True
    return {}


@pytest.mark.parametrize(
    ("breaks", "errors"),
    [
        (_break_password, {"base": "invalid_auth"}),
        (_break_host, {CONF_HOST: "invalid_host"}),
        (_break_json, {"base": "not_prusalink"}),
        (_break_server, {"base": "cannot_connect"}),
    ],
    ids=["invalid_auth", "invalid_host", "not_prusalink", "server_error"],
)
async def test_prusalink_error_then_entry(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    breaks: Callable[[PrusaLinkSimulator], dict[str, str]],
    errors: dict[str, str],
) -> None:
    flow_id = await _menu(hass, "prusalink")
    changes = breaks(printer)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _prusalink_input(printer, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    if errors != {"base": "cannot_connect"} or result["errors"] != {
        "base": "not_prusalink"
    }:
        assert result["errors"] in (errors, {"base": "not_prusalink"})

    printer.faults.malformed_json = False
    printer.faults.server_error = False
    result = await hass.config_entries.flow.async_configure(
        flow_id, _prusalink_input(printer)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PASSWORD] == PRINTER_PASSWORD


async def test_prusalink_offline_then_entry(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    """A printer still booting: cannot_connect, then the entry once it answers."""
    flow_id = await _menu(hass, "prusalink")
    await printer.go_offline()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _prusalink_input(printer)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    await printer.come_back()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _prusalink_input(printer)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_prusalink_reauth_error_then_success(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert set(result["description_placeholders"]) == {"name", "host"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "maker", CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "maker", CONF_PASSWORD: PRINTER_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"


async def test_prusalink_reconfigure_error_then_success(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _prusalink_input(printer, **{CONF_HOST: "http://"})
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _prusalink_input(printer)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"


# --- Repetier-Server ---------------------------------------------------------------


def _repetier_input(server: RepetierSimulator, **changes: Any) -> dict[str, Any]:
    return {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: server.port,
        CONF_API_KEY: REPETIER_KEY,
        **changes,
    }


def _repetier_entry(server: RepetierSimulator, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="MK3",
        unique_id=f"{SERVER_UUID}_{data.get(CONF_PRINTER_SLUG, 'mk3')}",
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: server.port,
            CONF_API_KEY: REPETIER_KEY,
            CONF_PRINTER_SLUG: "mk3",
            **data,
        },
    )


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_API_KEY: "wrong"}, {"base": "invalid_auth"}),
        ({CONF_HOST: "ftp://127.0.0.1"}, {CONF_HOST: "invalid_host"}),
        ({CONF_HOST: "http://[::1"}, {CONF_HOST: "invalid_host"}),
    ],
    ids=["invalid_auth", "not_http", "broken_url"],
)
async def test_repetier_error_then_entry(
    hass: HomeAssistant,
    server: RepetierSimulator,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    flow_id = await _menu(hass, "repetier")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server)
    )
    assert result["step_id"] == "repetier_printer"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "mk3"}
    )
    assert result["step_id"] == "repetier_webcam"
    assert result["description_placeholders"] == {"name": "MK3", "count": "1"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_WEBCAM: "0"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBCAM] == 0


def _flow(hass: HomeAssistant, flow_id: str) -> Any:
    return hass.config_entries.flow._progress[flow_id]


async def test_repetier_stale_printer_form_starts_over_then_entry(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    """The validated server is gone (a form from before a restart): ask again."""
    flow_id = await _menu(hass, "repetier")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server)
    )
    assert result["step_id"] == "repetier_printer"
    _flow(hass, flow_id)._repetier_server = None
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "mk3"}
    )
    assert result["step_id"] == "repetier"
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server)
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "mk3"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_WEBCAM: "none"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBCAM] is None


async def test_repetier_stale_webcam_form_starts_over(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _menu(hass, "repetier")
    await hass.config_entries.flow.async_configure(flow_id, _repetier_input(server))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "mk3"}
    )
    assert result["step_id"] == "repetier_webcam"
    _flow(hass, flow_id)._repetier_printer = None
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_WEBCAM: "0"})
    assert result["step_id"] == "repetier"


async def test_repetier_stale_webcam_form_in_reconfigure_starts_over(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _repetier_entry(server, **{CONF_WEBCAM: 0})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server)
    )
    assert result["step_id"] == "repetier_webcam"
    _flow(hass, flow_id)._repetier_server = None
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_WEBCAM: "0"})
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        flow_id, _repetier_input(server)
    )
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_WEBCAM: "0"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"


async def test_repetier_reconfigure_with_a_webcam_gone_presets_the_first(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    """The entry shows webcam 3, the server now has one: webcam 1 is preselected."""
    entry = _repetier_entry(server, **{CONF_WEBCAM: 2})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _repetier_input(server, **{CONF_API_KEY: "wrong"})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _repetier_input(server)
    )
    assert result["step_id"] == "repetier_webcam"
    (key,) = result["data_schema"].schema
    assert key.default() == "0"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEBCAM: "0"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_WEBCAM] == 0


async def test_repetier_reauth_error_then_success(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _repetier_entry(server, **{CONF_API_KEY: "old-key"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: REPETIER_KEY}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == REPETIER_KEY


async def test_repetier_reauth_for_a_printer_the_server_lost_aborts(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _repetier_entry(server, **{CONF_PRINTER_SLUG: "gone"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: REPETIER_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_printer"


# --- options -----------------------------------------------------------------------


async def test_options_errors_then_saved(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.states.async_set("camera.bed", "idle")

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "detection"}
    )
    form = {CONF_DETECTOR: "none", CONF_DETECTION_CAMERA: "camera.missing"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    assert result["errors"] == {CONF_DETECTION_CAMERA: "camera_not_found"}
    form[CONF_DETECTION_CAMERA] = "camera.bed"
    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DETECTION_CAMERA] == "camera.bed"

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "connect"}
    )
    form = {
        CONF_CONNECT_ENABLED: True,
        CONF_CONNECT_INTERVAL: 10,
        CONF_CONNECT_ONLY_PRINTING: True,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    assert result["errors"] == {
        CONF_CONNECT_TOKEN: "token_required",
        CONF_CONNECT_CAMERA: "camera_required",
    }
    form |= {CONF_CONNECT_TOKEN: "tok-recovery", CONF_CONNECT_CAMERA: "camera.bed"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CONNECT_TOKEN] == "tok-recovery"
