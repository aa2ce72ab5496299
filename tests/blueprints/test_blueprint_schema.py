"""Every shipped blueprint is one Home Assistant accepts and can show."""

from __future__ import annotations

from typing import Any

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util
import pytest

from . import BLUEPRINT_FILES, BLUEPRINT_SOURCE, async_install_blueprint_files

EXPECTED = {
    "failure_response.yaml",
    "pause_resume_on_binary_sensor.yaml",
    "pause_resume_on_sensor.yaml",
    "print_status_notifications.yaml",
    "ventilation_by_filament.yaml",
}
SOURCE_URL = (
    "https://github.com/print-sentinel/print_sentinel/blob/main/"
    "custom_components/print_sentinel/blueprints/automation/"
)


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory."""
    return hass_tmp_config_dir


def _load(name: str) -> Blueprint:
    data = yaml_util.load_yaml_dict(BLUEPRINT_SOURCE / name)
    return Blueprint(
        data,
        path=name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def _selectors(blueprint: Blueprint) -> dict[str, dict[str, Any]]:
    return {
        key: value["selector"]
        for key, value in blueprint.inputs.items()
        if value and "selector" in value
    }


def test_all_blueprints_are_shipped() -> None:
    assert set(BLUEPRINT_FILES) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_blueprint_is_valid_and_described(name: str) -> None:
    blueprint = _load(name)

    assert blueprint.validate() is None  # runs on this Home Assistant
    meta = blueprint.metadata
    assert meta["source_url"] == SOURCE_URL + name
    assert meta["author"] == "Print Sentinel"
    assert meta["name"].startswith("Print Sentinel: ")
    assert len(meta["description"]) > 80
    # inputs are grouped in sections, and every input is named
    assert all("input" in section for section in meta["input"].values())
    assert all(value.get("name") for value in blueprint.inputs.values())


PRINTER_INPUTS = {
    "material_sensor",
    "state_sensor",
    "pause_button",
    "resume_button",
    "cancel_button",
    "print_job_event",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_printer_inputs_only_offer_print_sentinel_entities(name: str) -> None:
    selectors = _selectors(_load(name))
    printer_inputs = PRINTER_INPUTS & set(selectors)

    assert printer_inputs, "every blueprint uses some printer entity"
    for key in printer_inputs:
        filters = selectors[key]["entity"]["filter"]
        assert all(f["integration"] == "print_sentinel" for f in filters), key


async def test_home_assistant_lists_all_blueprints(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "automation", {})
    await async_install_blueprint_files(hass)

    found = await async_get_blueprints(hass).async_get_blueprints()

    ours = {path: bp for path, bp in found.items() if path.startswith("print_sentinel")}
    assert set(ours) == {f"print_sentinel/{name}" for name in EXPECTED}
    assert all(isinstance(bp, Blueprint) for bp in ours.values()), ours
