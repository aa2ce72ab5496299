"""Helpers for the device trigger and condition tests."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import DOMAIN


@dataclass(frozen=True)
class RegisteredPrinter:
    """A printer put in the registries by hand."""

    device_id: str
    entity_ids: dict[str, str]


def register_printer(
    hass: HomeAssistant,
    *,
    serial: str | None = "SN-0001",
    name: str = "MK4S",
    keys: tuple[tuple[str, str], ...] = (
        ("sensor", "state"),
        ("sensor", "job_name"),
        ("event", "print_job"),
        ("event", "detection"),
    ),
) -> RegisteredPrinter:
    """Register a config entry, a device and its entities (unique id serial_key).

    Without a serial the config entry has no unique id, and the entities' unique
    ids start with ``None``, as an entity base class formatting it would make them.
    """
    entry = MockConfigEntry(domain=DOMAIN, unique_id=serial, title=name)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, serial or entry.entry_id)},
        name=name,
    )
    registry = er.async_get(hass)
    entity_ids = {
        key: registry.async_get_or_create(
            domain,
            DOMAIN,
            f"{serial}_{key}",
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=f"{name}_{key}".lower(),
        ).entity_id
        for domain, key in keys
    }
    return RegisteredPrinter(device_id=device.id, entity_ids=entity_ids)
