"""A printer whose slug is no plain text (spaces around it, control characters,
too long) could not be asked for again: the flow does not offer it."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
import pytest

from custom_components.print_sentinel.const import DOMAIN
from simulators.repetier import RepetierSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _server_step(hass: HomeAssistant, printers: list[tuple[str, str]]) -> dict:
    sim = RepetierSimulator(api_key="key-1", printers=printers, server_uuid="u-1")
    sim.websocket = False
    await sim.start("127.0.0.1", 0)
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "repetier"}
        )
        return await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"host": "127.0.0.1", "port": sim.port, "api_key": "key-1"},
        )
    finally:
        await sim.stop()


@pytest.mark.parametrize("slug", ["p" * 300, "mk3 ", "mk\t3"], ids=repr)
async def test_only_printers_that_can_be_asked_for_are_offered(
    hass: HomeAssistant, slug: str
) -> None:
    result = await _server_step(hass, [(slug, "Odd"), ("good", "Good")])
    assert result["step_id"] == "repetier_printer"
    options = result["data_schema"].schema["printer_slug"].config["options"]
    assert [option["value"] for option in options] == ["good"]


async def test_a_server_with_only_such_printers_says_it_has_none(
    hass: HomeAssistant,
) -> None:
    result = await _server_step(hass, [("mk3 ", "Odd")])
    assert result["errors"] == {"base": "no_printers"}
