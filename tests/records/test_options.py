"""The records step of the options flow."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.records import get_recorder


async def test_records_options_are_saved_and_used(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    recorder = get_recorder(init_integration)
    assert recorder is not None
    assert recorder.settings.interval == 60
    assert recorder.settings.keep == 20
    assert recorder.settings.max_bytes == 500 * 1024 * 1024

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert "records" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "records"}
    )
    assert result["type"] is FlowResultType.FORM
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "timelapse_mode": "layer",
                "timelapse_interval": 1,
                "records_keep": 5,
                "records_max_mb": 100,
            },
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "timelapse_mode": "layer",
            "timelapse_interval": 30,
            "records_keep": 5,
            "records_max_mb": 100,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options["records_keep"] == 5
    assert isinstance(init_integration.options["records_keep"], int)
    await hass.async_block_till_done()
    recorder = get_recorder(init_integration)  # reloaded with the new options
    assert recorder is not None
    assert recorder.settings.mode == "layer"
    assert recorder.settings.interval == 30
    assert recorder.settings.keep == 5
    assert recorder.settings.max_bytes == 100 * 1024 * 1024
