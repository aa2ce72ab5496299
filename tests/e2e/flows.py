"""What a user does in the UI, as REST and websocket calls: flows and entity lookups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import HomeAssistantClient, poll

DOMAIN = "print_sentinel"
FLOW = "/api/config/config_entries/flow"
OPTIONS_FLOW = "/api/config/config_entries/options/flow"
FAILED_STATES = ("setup_error", "setup_retry", "failed_unload", "migration_error")


def field_names(step: dict[str, Any]) -> list[str]:
    """Return the names of a form step's fields, in order."""
    return [field["name"] for field in step.get("data_schema", [])]


def expect_step(
    step: dict[str, Any], kind: str, step_id: str | None = None
) -> dict[str, Any]:
    """Fail with the whole step unless it is a `kind` (and `step_id`) step."""
    assert step["type"] == kind, f"expected a {kind} step, got {step}"
    if step_id is not None:
        assert step.get("step_id") == step_id, f"expected step {step_id!r}, got {step}"
    return step


async def start_config_flow(ha: HomeAssistantClient) -> dict[str, Any]:
    """Press "Add integration" and pick Print Sentinel, as the UI does."""
    return dict(
        await ha.post(FLOW, {"handler": DOMAIN, "show_advanced_options": False})
    )


async def flow_step(
    ha: HomeAssistantClient, flow_id: str, data: dict[str, Any], options: bool = False
) -> dict[str, Any]:
    """Submit a step of a config (or options) flow."""
    return dict(await ha.post(f"{OPTIONS_FLOW if options else FLOW}/{flow_id}", data))


async def add_prusalink_printer(
    ha: HomeAssistantClient, host: str, password: str
) -> dict[str, Any]:
    """Run the config flow for a PrusaLink printer to its end; return the result."""
    step = expect_step(await start_config_flow(ha), "menu", "user")
    step = expect_step(
        await flow_step(ha, step["flow_id"], {"next_step_id": "prusalink"}),
        "form",
        "prusalink",
    )
    return await flow_step(
        ha, step["flow_id"], {"host": host, "username": "maker", "password": password}
    )


async def run_options_section(
    ha: HomeAssistantClient, entry_id: str, section: str, *forms: dict[str, Any]
) -> dict[str, Any]:
    """Open the entry's options, pick a menu section and submit its forms in turn."""
    step = expect_step(
        dict(await ha.post(OPTIONS_FLOW, {"handler": entry_id})), "menu", "init"
    )
    assert section in step["menu_options"], step
    step = await flow_step(ha, step["flow_id"], {"next_step_id": section}, options=True)
    for form in forms:
        expect_step(step, "form")
        assert not step.get("errors"), (
            f"options form {step['step_id']} shows errors: {step}"
        )
        step = await flow_step(ha, step["flow_id"], form, options=True)
    return step


async def config_entries(ha: HomeAssistantClient) -> list[dict[str, Any]]:
    """Return the integration's config entries as Settings > Devices shows them."""
    return list(await ha.get(f"/api/config/config_entries/entry?domain={DOMAIN}"))


async def wait_for_entry_loaded(
    ha: HomeAssistantClient, within: float = 30
) -> dict[str, Any]:
    """Wait until the (only) printer entry is set up, as after saving options (a reload)."""

    def loaded(entries: list[dict[str, Any]]) -> bool:
        assert len(entries) == 1, f"expected one printer entry, found {entries}"
        state = entries[0]["state"]
        assert state not in FAILED_STATES, f"the printer entry is {state}: {entries[0]}"
        return bool(state == "loaded")

    entries = await poll(
        lambda: config_entries(ha),
        loaded,
        within=within,
        what="the printer entry loaded",
    )
    return entries[0]


@dataclass(frozen=True)
class PrinterEntities:
    """The entity ids of one printer, keyed by `<platform>.<translation_key>`."""

    by_key: dict[str, str]
    device_id: str
    """The printer's device (what service calls name)."""

    def __getitem__(self, key: str) -> str:
        """Return the entity id for `sensor.state`, `button.pause`, ..."""
        try:
            return self.by_key[key]
        except KeyError:
            raise AssertionError(
                f"the printer has no {key} entity; it has {sorted(self.by_key)}"
            ) from None


async def printer_entities(ha: HomeAssistantClient, entry_id: str) -> PrinterEntities:
    """Find the entry's entities in the entity registry (what Settings > Entities lists)."""
    registry = await ha.ws({"type": "config/entity_registry/list"})
    mine = [entity for entity in registry if entity["config_entry_id"] == entry_id]
    found = {
        f"{entity['entity_id'].split('.')[0]}.{entity['translation_key']}": entity[
            "entity_id"
        ]
        for entity in mine
        if entity.get("translation_key")
    }
    devices = {entity["device_id"] for entity in mine}
    assert len(devices) == 1, f"expected the entities on one printer device: {devices}"
    return PrinterEntities(found, devices.pop())
