"""Adding a Repetier-Server printer through the UI: every path of its config flow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
import socket
from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.print_sentinel.const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    CONF_WEBCAM,
    DOMAIN,
    PRINTER_TYPE_REPETIER,
)
from custom_components.print_sentinel.printers.base import PrinterError
from custom_components.print_sentinel.repetier_flow import split_host
from simulators.prusalink import PrusaLinkSimulator
from simulators.repetier import RepetierSimulator

API_KEY = "7c1d9e2a-repetier-Secret-key"
SERVER_UUID = "4f0b2c1e-0000-4000-8000-00000000abcd"
HOST = "127.0.0.1"


async def _unload_then_stop(hass: HomeAssistant, sim: RepetierSimulator) -> None:
    """Unload the printers a test added before their server goes away.

    A loaded printer keeps a websocket to the server and reconnects when it drops;
    a reconnect accepted while the server closes trips asyncio at teardown.
    """
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await sim.stop()


@pytest.fixture
async def server(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncGenerator[RepetierSimulator]:
    """A Repetier-Server with two printers on a free loopback port."""
    sim = RepetierSimulator(
        api_key=API_KEY,
        printers=[("prusa_i3", "Prusa i3"), ("ender_3", "Ender 3")],
        server_uuid=SERVER_UUID,
    )
    await sim.start(HOST, 0)
    yield sim
    await _unload_then_stop(hass, sim)


@pytest.fixture
async def other_server(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncGenerator[RepetierSimulator]:
    """A second Repetier-Server (another uuid) with a printer of the same slug."""
    sim = RepetierSimulator(
        api_key=API_KEY,
        printers=[("prusa_i3", "Prusa i3")],
        server_uuid="9a9a9a9a-1111-4000-8000-000000000001",
    )
    await sim.start(HOST, 0)
    yield sim
    await _unload_then_stop(hass, sim)


@pytest.fixture
async def router(socket_enabled: None) -> AsyncGenerator[int]:
    """A web server that answers, but is not Repetier-Server (a router's page)."""
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>router</html>", content_type="text/html")

    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    yield int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    await runner.cleanup()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _server_input(
    port: int, api_key: str = API_KEY, host: str = HOST
) -> dict[str, Any]:
    return {CONF_HOST: host, CONF_PORT: port, CONF_API_KEY: api_key}


def _entry(
    port: int, slug: str = "prusa_i3", api_key: str = API_KEY
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Prusa i3",
        unique_id=f"{SERVER_UUID}_{slug}",
        data={
            CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
            CONF_HOST: HOST,
            CONF_PORT: port,
            CONF_API_KEY: api_key,
            CONF_PRINTER_SLUG: slug,
        },
    )


def _fields(result: ConfigFlowResult) -> list[dict[str, Any]]:
    """The form's fields as the frontend receives them."""
    fields = probatio.to_field_list(
        result["data_schema"], custom_serializer=cv.custom_serializer
    )
    assert isinstance(fields, list)
    return fields


def _schema(result: ConfigFlowResult) -> probatio.Schema:
    schema = result["data_schema"]
    assert schema is not None
    return schema


def _options(
    result: ConfigFlowResult, name: str = CONF_PRINTER_SLUG
) -> list[tuple[str, str]]:
    """The (value, label) pairs the form's only field, a select, offers."""
    (field,) = _fields(result)
    assert field["name"] == name
    return [
        (option["value"], option["label"])
        for option in field["selector"]["select"]["options"]
    ]


def _default(result: ConfigFlowResult) -> Any:
    (field,) = _fields(result)
    return field.get("default")


async def _pick(
    hass: HomeAssistant, flow_id: str, slug: str, webcam: str = "0"
) -> ConfigFlowResult:
    """Pick a printer, and its webcam when the flow asks for one."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: slug}
    )
    if result["type"] is FlowResultType.FORM:
        assert result["step_id"] == "repetier_webcam"
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_WEBCAM: webcam}
        )
    return result


async def _repetier_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "repetier"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier"
    assert result["errors"] == {}
    return result["flow_id"]


async def test_user_adds_repetier_printer(
    hass: HomeAssistant,
    server: RepetierSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.printer("ender_3").webcams = 2
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier_printer"
    assert _options(result) == [("prusa_i3", "Prusa i3"), ("ender_3", "Ender 3")]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "ender_3"}
    )
    # the printer has webcams: the flow offers them, the first one preselected
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier_webcam"
    assert _options(result, CONF_WEBCAM) == [
        ("none", "No camera"),
        ("0", "Webcam 1"),
        ("1", "Webcam 2"),
    ]
    assert _default(result) == "0"
    assert _fields(result)[0]["selector"]["select"]["translation_key"] == (
        "repetier_webcam"
    )
    assert result["description_placeholders"] == {"name": "Ender 3", "count": "2"}

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_WEBCAM: "1"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Ender 3"
    assert result["data"] == {
        CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
        CONF_HOST: HOST,
        CONF_PORT: server.port,
        CONF_API_KEY: API_KEY,
        CONF_PRINTER_SLUG: "ender_3",
        CONF_WEBCAM: 1,
    }
    entry = result["result"]
    assert entry.unique_id == f"{SERVER_UUID}_ender_3"

    # the new entry sets up, and the printer's device carries the flow's unique id
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.unique_id), entry.entry_id
    )
    assert device is not None
    assert device.name == "Ender 3"
    state = hass.states.get("sensor.ender_3_printer_state")
    assert state is not None
    assert state.state == "idle"
    # the key travels in the header only, and is never logged
    assert all(
        r.key_in_header and not r.key_in_query for r in server.requests if r.action
    )
    assert API_KEY not in caplog.text
    # the camera shows the chosen webcam
    await async_get_image(hass, "camera.ender_3_camera")
    (record,) = [r for r in server.requests if r.path == "/printer/camjpg/ender_3"]
    assert record.raw_query == "cam=1"


async def test_no_camera_chosen_is_stored_as_none(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    await hass.config_entries.flow.async_configure(flow_id, _server_input(server.port))
    result = await _pick(hass, flow_id, "prusa_i3", webcam="none")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBCAM] is None
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert [r for r in server.requests if r.path.startswith("/printer/camjpg")] == []


async def test_printer_without_webcam_skips_the_camera_step(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.printer("prusa_i3").webcams = 0
    flow_id = await _repetier_form(hass)
    await hass.config_entries.flow.async_configure(flow_id, _server_input(server.port))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PRINTER_SLUG: "prusa_i3"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBCAM] is None


async def test_forms_serialize_for_the_frontend(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "repetier"}
    )
    fields = _fields(result)
    assert [field["name"] for field in fields] == [CONF_HOST, CONF_PORT, CONF_API_KEY]
    port = fields[1]
    assert port["type"] == "integer"
    assert port["default"] == 3344
    assert fields[2]["selector"] == {
        "text": {"multiline": False, "multiple": False, "type": "password"}
    }


async def test_offline_printer_is_offered_and_labelled_offline(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.printer("ender_3").online = 0
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert _options(result) == [
        ("prusa_i3", "Prusa i3"),
        ("ender_3", "Ender 3 (offline)"),
    ]


async def test_wrong_api_key_shows_invalid_auth_then_recovers(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port, api_key="wrong-key")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier"
    assert result["errors"] == {"base": "invalid_auth"}
    # host and port are kept for the next try; the refused key is not filled back in
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in _schema(result).schema
    }
    assert suggested == {CONF_HOST: HOST, CONF_PORT: server.port, CONF_API_KEY: None}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["step_id"] == "repetier_printer"
    result = await _pick(hass, flow_id, "prusa_i3")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == API_KEY


async def test_unreachable_server_shows_cannot_connect_then_recovers(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    await server.go_down()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    await server.come_up()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["step_id"] == "repetier_printer"


async def test_nothing_listening_shows_cannot_connect(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(_closed_port())
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_other_web_server_shows_not_repetier(
    hass: HomeAssistant, router: int
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(router)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_repetier"}


async def test_malformed_answer_shows_not_repetier(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.malformed_json = True
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["errors"] == {"base": "not_repetier"}


async def test_server_without_printers_shows_no_printers(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.printers.clear()
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier"
    assert result["errors"] == {"base": "no_printers"}


async def test_unexpected_error_shows_unknown(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    with patch(
        "custom_components.print_sentinel.repetier_flow.async_list_printers",
        side_effect=PrinterError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, _server_input(server.port)
        )
    assert result["errors"] == {"base": "unknown"}


@pytest.mark.parametrize("host", ["", "   ", "ftp://server", "http://", "https://"])
async def test_invalid_host_is_rejected(hass: HomeAssistant, host: str) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(3344, host=host)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}


@pytest.mark.parametrize(
    ("host", "error"),
    [
        ("xn--", "invalid_host"),
        ("xn--a.example", "invalid_host"),
        ("http://exa mple:abc/", "invalid_host"),
        ("exa mple", "invalid_host"),
        ("repetier\nlocal", "invalid_host"),
        ("999.1.1.1", "invalid_host"),
        ("a" * 5000, "invalid_host"),
        (f"{HOST}:99999", "invalid_port"),
        (f"{HOST}:0655350", "invalid_port"),
        (f"{HOST}:000000000000000003344", "invalid_port"),
        (f"{HOST}:0", "invalid_port"),
        ("[::1]:70000", "invalid_port"),
        (f"http://{HOST}:abc/", "invalid_port"),
        ("javascript:alert(1)", "invalid_host"),  # not "the port is wrong"
        ("https://repetier.example/", "https_unsupported"),  # a reverse proxy's
        ("http://\U0001f4a5.local", "invalid_host"),  # no IDNA 2008 name
        (f"https://{HOST}:3344/#/", "https_unsupported"),
    ],
)
async def test_address_that_is_no_address_names_the_host_field(
    hass: HomeAssistant, host: str, error: str
) -> None:
    """Hostile addresses get a form error on the host field, never an HTTP 500."""
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(3344, host=host)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: error}


@pytest.mark.parametrize(
    "api_key", ["key\nX-Injected: 1", "key\rmore", "key\x00", "k" * 1000]
)
async def test_api_key_no_header_can_carry_names_the_key_field(
    hass: HomeAssistant, server: RepetierSimulator, api_key: str
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port, api_key=api_key)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}
    # nothing was sent with such a key
    assert server.requests == []


async def test_api_key_pasted_with_a_trailing_newline_is_used(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port, api_key=f" {API_KEY}\n")
    )
    assert result["step_id"] == "repetier_printer"
    result = await _pick(hass, flow_id, "prusa_i3")
    assert result["data"][CONF_API_KEY] == API_KEY


async def test_reauth_with_a_key_no_header_can_carry_names_the_key_field(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _entry(server.port, api_key="old-key")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new\nkey"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}
    assert entry.data[CONF_API_KEY] == "old-key"


async def test_url_copied_from_the_browser_is_accepted(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        _server_input(3344, host=f" http://{HOST}:{server.port}/#/printer/prusa_i3 "),
    )
    assert result["step_id"] == "repetier_printer"
    result = await _pick(hass, flow_id, "prusa_i3")
    assert result["data"][CONF_HOST] == HOST
    assert result["data"][CONF_PORT] == server.port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.20", ("192.168.1.20", 3344)),
        ("repetier.local:8080", ("repetier.local", 8080)),
        ("http://10.0.0.5/", ("10.0.0.5", 3344)),
        ("fe80::1", ("fe80::1", 3344)),
        ("[fe80::1]:3345", ("fe80::1", 3345)),
        ("http://user:pw@10.0.0.5", None),
        ("xn--", None),
        ("Repetier.LOCAL", ("repetier.local", 3344)),
        ("xn--bcher-kva.example", ("xn--bcher-kva.example", 3344)),
    ],
)
def test_split_host_reads_what_users_type(
    text: str, expected: tuple[str, int] | None
) -> None:
    assert split_host(text, 3344) == expected


async def test_second_printer_of_the_same_server_can_be_added(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    _entry(server.port, "prusa_i3").add_to_hass(hass)
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    # the printer already set up is not offered again
    assert _options(result) == [("ender_3", "Ender 3")]
    result = await _pick(hass, flow_id, "ender_3")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"{SERVER_UUID}_ender_3"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


async def test_every_printer_added_aborts_no_printers(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    _entry(server.port, "prusa_i3").add_to_hass(hass)
    _entry(server.port, "ender_3").add_to_hass(hass)
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(server.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_printers"


async def test_same_printer_twice_aborts(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    # two flows open at once both offer the Prusa i3; the second one to pick it aborts
    first = await _repetier_form(hass)
    second = await _repetier_form(hass)
    for flow_id in (first, second):
        result = await hass.config_entries.flow.async_configure(
            flow_id, _server_input(server.port)
        )
        assert ("prusa_i3", "Prusa i3") in _options(result)
    result = await _pick(hass, first, "prusa_i3")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await _pick(hass, second, "prusa_i3")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_printer_being_added_elsewhere_aborts_while_at_the_camera_step(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    first, second = await _repetier_form(hass), await _repetier_form(hass)
    for flow_id in (first, second):
        await hass.config_entries.flow.async_configure(
            flow_id, _server_input(server.port)
        )
    result = await hass.config_entries.flow.async_configure(
        first, {CONF_PRINTER_SLUG: "prusa_i3"}
    )
    assert result["step_id"] == "repetier_webcam"
    # the first window is choosing the camera: the second cannot add the printer
    result = await hass.config_entries.flow.async_configure(
        second, {CONF_PRINTER_SLUG: "prusa_i3"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"
    result = await hass.config_entries.flow.async_configure(first, {CONF_WEBCAM: "0"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.data[CONF_WEBCAM] == 0


async def test_reconfigure_moves_printer_to_new_address_and_key(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    # the entry still points at the old address, where nothing answers any more
    entry = _entry(_closed_port(), api_key="old-key")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert [str(key) for key in _schema(result).schema] == [
        CONF_HOST,
        CONF_PORT,
        CONF_API_KEY,
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(server.port, api_key="old-key")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(server.port)
    )
    # then the camera choice, with the entry's webcam (0 for an older entry) preset
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "repetier_webcam"
    assert _default(result) == "0"
    assert entry.data[CONF_API_KEY] == "old-key"  # nothing changed yet
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEBCAM: "none"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == server.port
    assert entry.data[CONF_API_KEY] == API_KEY
    assert entry.data[CONF_PRINTER_SLUG] == "prusa_i3"
    assert entry.data[CONF_WEBCAM] is None
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_offers_the_webcams_with_the_choice_preset(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.printer("prusa_i3").webcams = 3
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_WEBCAM: None}
    )
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(server.port)
    )
    assert result["step_id"] == "repetier_webcam"
    assert _default(result) == "none"
    assert [value for value, _ in _options(result, CONF_WEBCAM)] == [
        "none",
        "0",
        "1",
        "2",
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WEBCAM: "2"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_WEBCAM] == 2


async def test_reconfigure_of_printer_without_webcam_needs_no_camera_step(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    server.printer("prusa_i3").webcams = 0
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(server.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_WEBCAM] is None


async def test_reconfigure_to_another_server_aborts(
    hass: HomeAssistant,
    server: RepetierSimulator,
    other_server: RepetierSimulator,
) -> None:
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(other_server.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_printer"
    assert entry.data[CONF_PORT] == server.port


async def test_reconfigure_to_server_without_the_printer_aborts(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _entry(server.port, slug="voron")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(server.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_printer"


async def test_reauth_with_new_api_key(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    server.api_key = "rotated-key"

    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert [str(key) for key in _schema(result).schema] == [CONF_API_KEY]
    assert result["description_placeholders"] == {
        "name": "Prusa i3",
        "host": f"{HOST}:{server.port}",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "rotated-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == "rotated-key"
    assert entry.data[CONF_HOST] == HOST
    assert CONF_WEBCAM not in entry.data  # reauth leaves the camera choice alone
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_answered_by_another_server_aborts(
    hass: HomeAssistant, other_server: RepetierSimulator
) -> None:
    # the address now belongs to another Repetier-Server with a same-named printer
    entry = _entry(other_server.port, api_key="old-key")
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_printer"
    assert entry.data[CONF_API_KEY] == "old-key"


@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
async def test_unknown_printer_type_is_not_treated_as_repetier(
    hass: HomeAssistant, server: RepetierSimulator, source: str
) -> None:
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_PRINTER_TYPE: "octoprint"}
    )
    if source == "reauth":
        result = await entry.start_reauth_flow(hass)
    else:
        result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unsupported_printer_type"
    assert server.requests == []


async def test_a_prusalink_printer_typed_in_as_repetier_shows_not_repetier(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    """PrusaLink's digest password prompt is no refused API key: not invalid_auth."""
    flow_id = await _repetier_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(printer.host_port[1])
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_repetier"}


async def test_reconfigure_with_the_key_left_empty_keeps_the_saved_key(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    """The key is never shown again: a new address alone needs no retyped key."""
    server.printer("prusa_i3").webcams = 0
    entry = _entry(_closed_port())  # the server moved; its key stays the same
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: HOST, CONF_PORT: server.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == server.port
    assert entry.data[CONF_API_KEY] == API_KEY


async def test_reconfigure_to_a_new_host_never_sends_the_saved_key_there(
    hass: HomeAssistant, server: RepetierSimulator
) -> None:
    """A saved secret goes only where it was entered for: a new host needs it typed."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2"])  # the new address
    entry = _entry(server.port)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    new_address = {CONF_HOST: "127.0.0.2", CONF_PORT: server.port}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], new_address
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "key_for_new_address"}
    assert server.requests == []  # nothing went anywhere
    # typed, it is tried there (where nothing answers)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**new_address, CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.data[CONF_HOST] == HOST
