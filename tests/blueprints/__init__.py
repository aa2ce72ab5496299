"""Helpers for the blueprint tests: a fake printer in the registries, automations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.print_sentinel.const import DOMAIN

BLUEPRINT_SOURCE = (
    Path(__file__).parents[2]
    / "custom_components"
    / "print_sentinel"
    / "blueprints"
    / "automation"
)
BLUEPRINT_FILES = sorted(p.name for p in BLUEPRINT_SOURCE.glob("*.yaml"))

SERIAL = "SN-MK4S-0001"

# (entity domain, key) of the entities the blueprints use
_ENTITIES = (
    ("sensor", "state"),
    ("sensor", "material"),
    ("sensor", "progress"),
    ("sensor", "job_name"),
    ("button", "pause"),
    ("button", "resume"),
    ("button", "cancel"),
    ("event", "print_job"),
    ("event", "detection"),
    ("image", "flagged_frame"),
    ("camera", "camera"),
)


@dataclass(frozen=True)
class FakePrinter:
    """Entity ids of a printer registered by hand (no integration running)."""

    device_id: str
    entity_ids: dict[str, str]

    def __getitem__(self, key: str) -> str:
        """Return the entity id of the entity with this key."""
        return self.entity_ids[key]


def register_printer(
    hass: HomeAssistant, *, serial: str = SERIAL, name: str = "MK4S"
) -> FakePrinter:
    """Put a printer device and its entities in the registries."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=serial, title=name)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, serial)},
        name=name,
        manufacturer="Prusa Research",
    )
    ent_reg = er.async_get(hass)
    entity_ids = {
        key: ent_reg.async_get_or_create(
            domain,
            DOMAIN,
            f"{serial}_{key}",
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=f"{name}_{key}".lower(),
        ).entity_id
        for domain, key in _ENTITIES
    }
    return FakePrinter(device_id=device.id, entity_ids=entity_ids)


async def async_install_blueprint_files(hass: HomeAssistant) -> None:
    """Copy the shipped blueprints where Home Assistant looks for them."""
    target = Path(hass.config.path("blueprints", "automation", DOMAIN))

    def _copy() -> None:
        target.mkdir(parents=True, exist_ok=True)
        for name in BLUEPRINT_FILES:
            shutil.copyfile(BLUEPRINT_SOURCE / name, target / name)

    await hass.async_add_executor_job(_copy)


async def async_create_automation(
    hass: HomeAssistant, blueprint: str, inputs: dict[str, Any], alias: str = "test"
) -> str:
    """Create one automation from a shipped blueprint; return its entity id."""
    return (await async_create_automations(hass, [(alias, blueprint, inputs)]))[0]


async def async_create_automations(
    hass: HomeAssistant, automations: list[tuple[str, str, dict[str, Any]]]
) -> list[str]:
    """Create automations from (alias, blueprint, inputs); return their entity ids."""
    await async_install_blueprint_files(hass)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": alias,
                    "use_blueprint": {"path": f"{DOMAIN}/{blueprint}", "input": inputs},
                }
                for alias, blueprint, inputs in automations
            ]
        },
    )
    await hass.async_block_till_done()
    entity_ids = [f"automation.{alias}" for alias, _, _ in automations]
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        assert state is not None, f"{entity_id} was not created"
        assert state.state == "on", f"automation did not set up: {state}"
    return entity_ids


async def async_advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the clock forward and let timers fire."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def async_settle() -> None:
    """Let automations run while one of them waits.

    A run that waits (wait_template, wait_for_trigger) is a pending task, so
    `hass.async_block_till_done()` would wait for it forever; Home Assistant's own
    blueprint tests step the event loop a fixed number of times instead.
    """
    for _ in range(30):
        await asyncio.sleep(0)


async def async_advance_waiting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move the clock forward while an automation run may be waiting."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await async_settle()
