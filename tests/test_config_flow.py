"""Adding a printer through the UI: every path of the config flow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
from unittest.mock import patch

from aiohttp import web
from homeassistant.config_entries import SOURCE_DHCP, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_MAC, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_PRINTER_TYPE,
    DOMAIN,
    PRINTER_TYPE_PRUSALINK,
)
from custom_components.print_sentinel.printers.base import PrinterError
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_PASSWORD, PRINTER_SERIAL


@pytest.fixture
async def not_prusalink(socket_enabled: None) -> AsyncGenerator[str]:
    """A web server that answers, but is not PrusaLink (a router's page)."""
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>router</html>", content_type="text/html")

    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"127.0.0.1:{port}"
    await runner.cleanup()


async def _prusalink_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["prusalink", "repetier", "ha_device"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusalink"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prusalink"
    return result["flow_id"]


async def test_user_adds_printer(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    flow_id = await _prusalink_form(hass)
    host = f"127.0.0.1:{printer.host_port[1]}"
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_HOST: host, CONF_USERNAME: "maker", CONF_PASSWORD: PRINTER_PASSWORD},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Prusa MK4S"
    assert result["data"] == {
        CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
        CONF_HOST: f"http://{host}",
        CONF_USERNAME: "maker",
        CONF_PASSWORD: PRINTER_PASSWORD,
    }
    assert result["result"].unique_id == PRINTER_SERIAL


async def test_wrong_password_shows_error_then_recovers(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_HOST: printer.url, CONF_USERNAME: "maker", CONF_PASSWORD: "wrong"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unreachable_printer_shows_cannot_connect(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    flow_id = await _prusalink_form(hass)
    await printer.go_offline()
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    await printer.come_back()
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_other_web_server_shows_not_prusalink(
    hass: HomeAssistant, not_prusalink: str
) -> None:
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: not_prusalink, CONF_USERNAME: "maker", CONF_PASSWORD: "x"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_prusalink"}


async def test_malformed_answer_shows_not_prusalink(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    printer.faults.malformed_json = True
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["errors"] == {"base": "not_prusalink"}


@pytest.mark.parametrize("host", ["", "ftp://printer", "http://"])
async def test_invalid_host_is_rejected(hass: HomeAssistant, host: str) -> None:
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_USERNAME: "maker", CONF_PASSWORD: "x"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}


@pytest.mark.parametrize(
    "error", [PrinterError("boom"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x")]
)
async def test_unexpected_error_shows_unknown(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """Ours or a library's: "unknown" in the form, one log line, no traceback."""
    flow_id = await _prusalink_form(hass)
    with patch(
        "custom_components.print_sentinel.printers.prusalink.PrusaLinkBackend.async_get_identity",
        side_effect=error,
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id,
            {
                CONF_HOST: printer.url,
                CONF_USERNAME: "maker",
                CONF_PASSWORD: PRINTER_PASSWORD,
            },
        )
    assert result["errors"] == {"base": "unknown"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is None
    assert PRINTER_PASSWORD not in caplog.text


async def test_same_printer_twice_aborts(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_new_password(
    hass: HomeAssistant, printer: PrusaLinkSimulator, init_integration: MockConfigEntry
) -> None:
    result = await init_integration.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "maker", CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "maker", CONF_PASSWORD: PRINTER_PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"


async def test_reauth_pointing_at_another_printer_aborts(
    hass: HomeAssistant, socket_enabled: None, init_integration: MockConfigEntry
) -> None:
    other = PrusaLinkSimulator("other-pw", serial="10589-0000000000000001")
    await other.start(host="127.0.0.1", port=0)
    try:
        hass.config_entries.async_update_entry(
            init_integration, data={**init_integration.data, CONF_HOST: other.url}
        )
        result = await init_integration.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_USERNAME: "maker", CONF_PASSWORD: "other-pw"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_printer"
    finally:
        await other.stop()


async def test_reconfigure_new_address(
    hass: HomeAssistant, printer: PrusaLinkSimulator, init_integration: MockConfigEntry
) -> None:
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "http://", CONF_USERNAME: "maker", CONF_PASSWORD: PRINTER_PASSWORD},
    )
    assert result["errors"] == {CONF_HOST: "invalid_host"}
    port = printer.host_port[1]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: f"http://127.0.0.1:{port}/index.html",
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data[CONF_HOST] == f"http://127.0.0.1:{port}"


def _dhcp(ip: str, mac: str = "109c70aabbcc") -> DhcpServiceInfo:
    return DhcpServiceInfo(ip=ip, hostname="prusa-mk4s", macaddress=mac)


async def test_dhcp_discovery_adds_printer(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    host, port = printer.host_port
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(f"{host}:{port}")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prusalink"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: f"{host}:{port}",
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MAC] == "10:9c:70:aa:bb:cc"
    assert result["result"].unique_id == PRINTER_SERIAL


async def test_same_printer_at_a_new_address_moves_the_entry(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    """A user who adds the printer again after its IP changed fixes the entry."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_HOST: "http://192.0.2.9"},
    )
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.data[CONF_HOST] == printer.url
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_dhcp_known_printer_with_new_ip_updates_host(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_MAC: "10:9c:70:aa:bb:cc"},
    )
    with patch("custom_components.print_sentinel.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp("192.0.2.7")
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.data[CONF_HOST] == "http://192.0.2.7"


async def test_dhcp_teaches_a_hand_added_printer_its_mac_then_follows_it(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A printer added by address learns its MAC from DHCP and keeps up with it."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_HOST: "http://192.0.2.5"},
    )
    assert CONF_MAC not in mock_config_entry.data
    with patch("custom_components.print_sentinel.async_setup_entry", return_value=True):
        seen = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp("192.0.2.5")
        )
        assert seen["reason"] == "already_configured"
        assert mock_config_entry.data[CONF_MAC] == "10:9c:70:aa:bb:cc"

        moved = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp("192.0.2.77")
        )
        await hass.async_block_till_done()
    assert moved["reason"] == "already_configured"
    assert mock_config_entry.data[CONF_HOST] == "http://192.0.2.77"
    assert not hass.config_entries.flow.async_progress()  # no "Discovered" card


async def test_dhcp_same_ip_aborts(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    host, port = printer.host_port
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_DHCP},
        data=_dhcp(f"{host}:{port}", "109c70000001"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    "host", ["127.0.0.1:99999", "http://exa mple:abc/", "http://xn--ls8h.la"]
)
async def test_invalid_host_is_a_field_error(hass: HomeAssistant, host: str) -> None:
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: host, CONF_USERNAME: "maker", CONF_PASSWORD: "pw"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "invalid_host"}


async def test_readd_with_new_address_and_password_keeps_working(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    async with PrusaLinkSimulator("new-Secret-pw", serial=PRINTER_SERIAL) as moved:
        flow_id = await _prusalink_form(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id,
            {
                CONF_HOST: moved.url,
                CONF_USERNAME: "maker",
                CONF_PASSWORD: "new-Secret-pw",
            },
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        assert mock_config_entry.data[CONF_HOST] == moved.url
        assert mock_config_entry.data[CONF_PASSWORD] == "new-Secret-pw"


async def test_second_printer_of_the_same_model_gets_a_distinct_name(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    MockConfigEntry(domain=DOMAIN, title="Prusa MK4S", unique_id="other").add_to_hass(
        hass
    )
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Prusa MK4S {PRINTER_SERIAL[-4:]}"
    assert result["data"]["name"] == result["title"]


async def test_user_names_the_printer(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    flow_id = await _prusalink_form(hass)
    base = {
        CONF_HOST: printer.url,
        CONF_USERNAME: "maker",
        CONF_PASSWORD: PRINTER_PASSWORD,
    }
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**base, "name": "x" * 65}
    )
    assert result["errors"] == {"name": "name_too_long"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, "name": "Work\x1b[31mshop\x00"}
    )
    assert result["errors"] == {"name": "invalid_name"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, "name": "  Workshop   left "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Workshop left"
    assert result["data"]["name"] == "Workshop left"


@pytest.mark.parametrize("username", ["Mäker✓", 'ma"ker', "ma\\ker", "ma\r\nX: y", ""])
async def test_a_user_name_digest_cannot_carry_names_the_field(
    hass: HomeAssistant, printer: PrusaLinkSimulator, username: str
) -> None:
    """Not 'not PrusaLink' or 'cannot connect': the user name is what is wrong."""
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_HOST: printer.url, CONF_USERNAME: username, CONF_PASSWORD: "x"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_USERNAME: "invalid_username"}
    assert printer.requests == []


async def test_a_pasted_user_name_with_spaces_around_it_signs_in(
    hass: HomeAssistant, printer: PrusaLinkSimulator
) -> None:
    """Digest would fail with " maker " and say wrong password; it is maker."""
    flow_id = await _prusalink_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: " maker\t",
            CONF_PASSWORD: PRINTER_PASSWORD,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USERNAME] == "maker"
