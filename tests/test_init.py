"""Setting up and unloading a printer."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_MAC
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import DOMAIN
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_SERIAL


async def test_setup_creates_device_and_unload_cleans_up(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), mock_config_entry.entry_id
    )
    assert device is not None
    assert device.manufacturer == "Prusa Research"
    assert device.model == "MK4S"
    assert device.serial_number == PRINTER_SERIAL
    assert device.sw_version == printer.firmware
    assert device.configuration_url == printer.url

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED


async def test_printer_offline_at_startup_retries(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    await printer.go_offline()
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_malformed_answer_at_startup_retries(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    printer.faults.malformed_json = True
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_wrong_password_at_startup_starts_reauth(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    printer.faults.unauthorized = True
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_a_printer_found_by_dhcp_has_its_mac_on_the_device(
    hass: HomeAssistant, printer: PrusaLinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_MAC: "10:9c:70:aa:bb:cc"},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), mock_config_entry.entry_id
    )
    assert device is not None
    assert (dr.CONNECTION_NETWORK_MAC, "10:9c:70:aa:bb:cc") in device.connections
