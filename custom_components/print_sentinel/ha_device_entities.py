"""Keep a printer from another integration pointed at its entities.

Such an entry stores the entity ids it reads and presses (`CONF_ENTITIES`). When the
user renames one of them in Home Assistant, the entry follows the new id and
reloads; when one is removed, or is missing once Home Assistant has started, a
repair issue names it and says to reconfigure (until then the printer is
unavailable if it was the state entity, or that part is missing).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_entity_registry_updated_event
from homeassistant.helpers.start import async_at_started

from .const import CONF_ENTITIES, DOMAIN, LOGGER

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_ISSUE: Final = "entity_missing"


def missing_issue_id(entry_id: str) -> str:
    """The repair issue of an entry whose entities are gone."""
    return f"{_ISSUE}_{entry_id}"


@callback
def async_follow_entities(hass: HomeAssistant, entry: ConfigEntry) -> CALLBACK_TYPE:
    """Follow renames of the entry's entities; raise an issue for missing ones.

    Returns what stops following.
    """
    entities: dict[str, str] = dict(entry.data.get(CONF_ENTITIES) or {})
    gone: set[str] = set()
    flush: asyncio.Handle | None = None

    @callback
    def _flush() -> None:
        nonlocal flush
        flush = None
        _check(hass, entry, entities, gone=set(gone))
        gone.clear()

    @callback
    def _updated(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        nonlocal flush
        data = event.data
        if data["action"] == "remove":
            # removing the other integration removes its entities one by one in
            # the same moment: one check (one log line) for all of them
            gone.add(data["entity_id"])
            if flush is None:
                flush = hass.loop.call_soon(_flush)
            return
        if data["action"] != "update" or "old_entity_id" not in data:
            return
        old, new = data["old_entity_id"], data["entity_id"]
        if old == new or old not in entities.values():
            return
        followed = {role: new if eid == old else eid for role, eid in entities.items()}
        LOGGER.info("%s follows %s, renamed to %s", entry.title, old, new)
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_ENTITIES: followed}
        )
        hass.config_entries.async_schedule_reload(entry.entry_id)

    unsubscribe = async_track_entity_registry_updated_event(
        hass, sorted(set(entities.values())), _updated
    )

    @callback
    def _started(_hass: HomeAssistant) -> None:
        # only now: other integrations' entities appear while Home Assistant starts
        _check(hass, entry, entities, gone=set())

    stop_waiting = async_at_started(hass, _started)

    @callback
    def _stop() -> None:
        unsubscribe()
        stop_waiting()
        if flush is not None:
            flush.cancel()

    return _stop


@callback
def _check(
    hass: HomeAssistant,
    entry: ConfigEntry,
    entities: dict[str, str],
    *,
    gone: set[str],
) -> None:
    """Raise (or clear) the repair issue naming the entities that are missing."""
    registry = er.async_get(hass)
    missing = sorted(
        {
            entity_id
            for entity_id in entities.values()
            if entity_id in gone
            or (
                registry.async_get(entity_id) is None
                and hass.states.get(entity_id) is None
            )
        }
    )
    issue_id = missing_issue_id(entry.entry_id)
    if not missing:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    roles = sorted(role for role, eid in entities.items() if eid in missing)
    LOGGER.warning(
        "%s: %s no longer in Home Assistant; reconfigure the printer",
        entry.title,
        ", ".join(missing) + (" is" if len(missing) == 1 else " are"),
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=(
            ir.IssueSeverity.ERROR if "state" in roles else ir.IssueSeverity.WARNING
        ),
        translation_key=_ISSUE,
        translation_placeholders={
            "printer": entry.title,
            "entities": ", ".join(missing),
        },
    )
