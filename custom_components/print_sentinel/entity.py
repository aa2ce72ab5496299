"""Base entity for Print Sentinel."""

from __future__ import annotations

from homeassistant.const import CONF_MAC, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import PrinterCoordinator
from .printers.base import PrinterIdentity


def device_info(identity: PrinterIdentity, mac: str | None = None) -> DeviceInfo:
    """Return the device registry entry of a printer."""
    info = DeviceInfo(
        identifiers={(DOMAIN, identity.unique_id)},
        name=identity.name,
        manufacturer=identity.manufacturer,
        model=identity.model,
        serial_number=identity.serial_number,
        sw_version=identity.firmware,
        configuration_url=identity.configuration_url,
    )
    if mac:
        info["connections"] = {(CONNECTION_NETWORK_MAC, mac)}
    return info


def attach_to_device(
    entity: Entity,
    hass: HomeAssistant,
    identity: PrinterIdentity,
    mac: str | None = None,
) -> None:
    """Put an entity on its printer's device page.

    A printer another integration already has (`identity.device_id`) keeps its one
    device: the entity joins it (`device_entry`, HA's way of linking a device of
    another integration). Should that device be gone, and for every other printer,
    the entity gets Print Sentinel's own device.
    """
    if identity.device_id is not None and (
        device := dr.async_get(hass).async_get(identity.device_id)
    ):
        entity.device_entry = device
        return
    entity._attr_device_info = device_info(identity, mac)


@callback
def async_remove_stale_entities(
    hass: HomeAssistant, platform: Platform, unique_id: str, keys: set[str]
) -> None:
    """Remove registry entries of entities a printer's backend no longer gets.

    Entries made before a backend declared its capabilities (a Repetier printer's
    always unknown material sensor, say) would otherwise linger as orphans.
    """
    registry = er.async_get(hass)
    for key in keys:
        if entity_id := registry.async_get_entity_id(
            platform, DOMAIN, f"{unique_id}_{key}"
        ):
            registry.async_remove(entity_id)


class PrintSentinelEntity(CoordinatorEntity[PrinterCoordinator]):
    """An entity of one printer, fed by its coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PrinterCoordinator, description: EntityDescription
    ) -> None:
        """Initialise from a description."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.identity.unique_id}_{description.key}"
        attach_to_device(
            self,
            coordinator.hass,
            coordinator.identity,
            coordinator.config_entry.data.get(CONF_MAC),
        )
