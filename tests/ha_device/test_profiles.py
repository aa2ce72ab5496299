"""Tests for the profiles of printer integrations already in Home Assistant."""

from __future__ import annotations

from dataclasses import dataclass, replace

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.print_sentinel.printers.ha_profiles import (
    DEFAULT_STATES,
    PROFILES,
    ROLE_DOMAINS,
    ROLES,
    STATE_KEYS,
    EntityMatch,
    Profile,
    RegistryEntryLike,
    profile_for,
    propose,
    states_for,
)

from .fakes import SPECS, PrinterSpec, object_id, register_printer

INTEGRATIONS = sorted(SPECS)


@dataclass(frozen=True)
class Entry:
    """Stands in for an entity registry entry."""

    entity_id: str
    domain: str
    platform: str
    unique_id: str
    translation_key: str | None = None
    disabled_by: object = None


def entries_of(spec: PrinterSpec) -> list[Entry]:
    """The registry entries of a printer, shaped as the integration registers them."""
    return [
        Entry(
            entity_id=f"{entity.domain}.{object_id(spec, entity)}",
            domain=entity.domain,
            platform=spec.integration,
            unique_id=spec.unique_id(entity),
            translation_key=entity.translation_key,
        )
        for entity in spec.entities
    ]


def expected(spec: PrinterSpec) -> dict[str, str]:
    """Role -> entity_id the fake's specification says should be proposed."""
    return {
        entity.role: f"{entity.domain}.{object_id(spec, entity)}"
        for entity in spec.entities
        if entity.role is not None
    }


def test_the_entry_stand_in_is_registry_entry_like() -> None:
    entry: RegistryEntryLike = Entry("sensor.x", "sensor", "octoprint", "u")
    assert entry.disabled_by is None


def test_every_integration_has_a_profile_and_a_fake() -> None:
    assert set(PROFILES) == set(SPECS)
    for domain, profile in PROFILES.items():
        assert profile.integration == domain
        assert profile.title
        assert profile.source


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_proposal_finds_every_role_the_integration_has(integration: str) -> None:
    spec = SPECS[integration]
    proposal = propose(profile_for(integration), entries_of(spec))

    assert proposal == expected(spec)
    for role in ("state", "camera", "pause", "resume", "stop"):
        assert role in proposal, role
    for role in ("job_name", "progress", "time_remaining", "nozzle", "bed"):
        assert role in proposal, role


@pytest.mark.parametrize(
    ("integration", "roles"),
    [
        ("bambu_lab", {"material", "failure"}),
        ("octoprint", {"failure"}),
        ("prusalink", {"material"}),
        ("elegoo_printer", {"failure"}),
        ("moonraker", set()),
    ],
)
def test_optional_roles_where_the_integration_has_them(
    integration: str, roles: set[str]
) -> None:
    proposal = propose(profile_for(integration), entries_of(SPECS[integration]))
    assert {"material", "failure"} & set(proposal) == roles


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_renaming_entity_ids_changes_nothing(integration: str) -> None:
    spec = SPECS[integration]
    entries = entries_of(spec)
    renamed = [
        replace(entry, entity_id=f"{entry.domain}.renamed_by_user_{index}")
        for index, entry in enumerate(entries)
    ]
    new_id = {
        old.entity_id: new.entity_id for old, new in zip(entries, renamed, strict=True)
    }

    proposal = propose(profile_for(integration), renamed)

    assert proposal == {role: new_id[eid] for role, eid in expected(spec).items()}


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_entry_order_does_not_change_the_proposal(integration: str) -> None:
    spec = SPECS[integration]
    proposal = propose(profile_for(integration), list(reversed(entries_of(spec))))
    assert proposal == expected(spec)


@pytest.mark.parametrize("integration", INTEGRATIONS)
@pytest.mark.parametrize("role", ["state", "camera", "pause", "stop"])
def test_a_disabled_entity_is_not_proposed(integration: str, role: str) -> None:
    spec = SPECS[integration]
    target = expected(spec)[role]
    entries = [
        replace(entry, disabled_by="user") if entry.entity_id == target else entry
        for entry in entries_of(spec)
    ]

    proposal = propose(profile_for(integration), entries)

    assert target not in proposal.values()
    # The other roles are unaffected.
    others = {k: v for k, v in expected(spec).items() if k != role}
    assert {k: v for k, v in proposal.items() if k != role} == others


def test_a_disabled_camera_falls_back_to_the_next_candidate() -> None:
    spec = SPECS["bambu_lab"]
    entries = [
        replace(entry, disabled_by="integration") if entry.domain == "camera" else entry
        for entry in entries_of(spec)
    ]
    proposal = propose(profile_for("bambu_lab"), entries)
    assert proposal["camera"] == f"image.p1s_{spec.id.lower()}_cover_image"


def test_a_disabled_octoprint_state_sensor_falls_back_to_printing() -> None:
    spec = SPECS["octoprint"]
    entries = [
        replace(entry, disabled_by="user")
        if entry.unique_id.startswith("Current State-")
        else entry
        for entry in entries_of(spec)
    ]
    proposal = propose(profile_for("octoprint"), entries)
    assert proposal["state"] == "binary_sensor.octoprint_printing"


def test_moonraker_macros_are_not_taken_for_its_buttons() -> None:
    spec = SPECS["moonraker"]
    # Without the integration's own buttons only the macros are left: no proposal.
    entries = [
        entry
        for entry in entries_of(spec)
        if not entry.unique_id.endswith(
            ("_pause_print", "_resume_print", "_cancel_print")
        )
    ]
    proposal = propose(profile_for("moonraker"), entries)
    assert {"pause", "resume", "stop"}.isdisjoint(proposal)


def test_moonraker_thumbnail_is_the_camera_of_last_resort() -> None:
    spec = SPECS["moonraker"]
    entries = [e for e in entries_of(spec) if not e.unique_id.endswith("_webcam_0")]
    proposal = propose(profile_for("moonraker"), entries)
    assert proposal["camera"] == "camera.voron_thumbnail"


def test_older_unique_id_shapes_still_match() -> None:
    # Elegoo before machine-id unique ids: f"{name, lowercase}_{key}", and the
    # camera's key was "centauri_carbon_camera".
    entries = [
        Entry("sensor.a", "sensor", "elegoo_printer", "centauri_carbon_print_status"),
        Entry(
            "camera.b",
            "camera",
            "elegoo_printer",
            "centauri_carbon_centauri_carbon_camera",
        ),
    ]
    assert propose(profile_for("elegoo_printer"), entries) == {
        "state": "sensor.a",
        "camera": "camera.b",
    }


def test_entities_of_other_integrations_on_the_device_are_ignored() -> None:
    spec = SPECS["prusalink"]
    stranger = Entry(
        "camera.webcam", "camera", "generic", f"{spec.id}_job_preview", "job_preview"
    )
    proposal = propose(profile_for("prusalink"), [stranger, *entries_of(spec)])
    assert proposal == expected(spec)


@pytest.mark.parametrize("integration", [None, "acme_printer"])
def test_without_a_profile_only_a_camera_is_proposed(integration: str | None) -> None:
    entries = [
        Entry("sensor.acme_state", "sensor", "acme_printer", "acme_state", "state"),
        Entry("button.acme_pause", "button", "acme_printer", "acme_pause", "pause"),
        Entry("image.acme_preview", "image", "acme_printer", "acme_preview"),
        Entry(
            "camera.acme_off", "camera", "acme_printer", "acme_off", disabled_by="user"
        ),
        Entry("camera.acme_cam", "camera", "acme_printer", "acme_cam"),
    ]
    profile = profile_for(integration)

    assert profile is None
    assert propose(profile, entries) == {"camera": "camera.acme_cam"}
    no_camera = [e for e in entries if e.domain != "camera"]
    assert propose(profile, no_camera) == {"camera": "image.acme_preview"}
    assert propose(profile, [e for e in no_camera if e.domain != "image"]) == {}


def test_a_known_printer_without_its_profile_proposes_only_a_camera() -> None:
    spec = SPECS["bambu_lab"]
    assert propose(None, entries_of(spec)) == {"camera": expected(spec)["camera"]}


def test_an_entity_is_used_for_one_role_only() -> None:
    shared = EntityMatch(domain="sensor", unique_id_suffixes=("_status",))
    profile = Profile(
        integration="acme",
        title="Acme",
        roles={"state": (shared,), "job_name": (shared,)},
        states=DEFAULT_STATES,
        source="test",
    )
    entries = [
        Entry("sensor.one", "sensor", "acme", "a_status"),
        Entry("sensor.two", "sensor", "acme", "b_status"),
    ]
    assert propose(profile, entries) == {
        "state": "sensor.one",
        "job_name": "sensor.two",
    }
    assert propose(profile, entries[:1]) == {"state": "sensor.one"}


def test_an_empty_match_matches_nothing() -> None:
    match = EntityMatch(domain="sensor")
    assert not match.matches(Entry("sensor.x", "sensor", "acme", "x", "x"))
    assert EntityMatch(domain="sensor", any_entity=True).matches(
        Entry("sensor.x", "sensor", "acme", "x")
    )
    assert not EntityMatch(domain="camera", any_entity=True).matches(
        Entry("sensor.x", "sensor", "acme", "x")
    )


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_state_values_cover_printing_and_paused(integration: str) -> None:
    states = states_for(profile_for(integration))
    assert tuple(states) == STATE_KEYS
    assert states["printing"]
    assert states["paused"]
    values = [value for key in STATE_KEYS for value in states[key]]
    assert all(value == value.lower() for value in values)
    assert len(values) == len(set(values)), "a raw value means two states"


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_roles_use_only_allowed_domains(integration: str) -> None:
    profile = PROFILES[integration]
    assert set(profile.roles) <= set(ROLES)
    for role, candidates in profile.roles.items():
        assert candidates, role
        for candidate in candidates:
            assert candidate.domain in ROLE_DOMAINS[role], (role, candidate)
    for entity in SPECS[integration].entities:
        if entity.role is not None:
            assert entity.domain in ROLE_DOMAINS[entity.role]


def test_role_domains_cover_every_role() -> None:
    assert set(ROLE_DOMAINS) == set(ROLES)
    assert tuple(DEFAULT_STATES) == STATE_KEYS


def test_states_without_a_profile_are_the_defaults() -> None:
    assert states_for(None) == DEFAULT_STATES
    assert states_for(None) is not DEFAULT_STATES


def test_profile_for() -> None:
    assert profile_for("octoprint") is PROFILES["octoprint"]
    assert profile_for(None) is None
    assert profile_for("acme_printer") is None


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_register_printer_matches_the_proposal(
    hass: HomeAssistant, integration: str
) -> None:
    printer = register_printer(hass, integration)
    registry = er.async_get(hass)
    entries = er.async_entries_for_device(
        registry, printer.device_id, include_disabled_entities=True
    )

    assert propose(profile_for(integration), entries) == printer.entity_ids
    assert len(entries) == len(SPECS[integration].entities)
    assert all(entry.platform == integration for entry in entries)
    assert all(
        entry.config_entry_id == printer.config_entry.entry_id for entry in entries
    )

    state = hass.states.get(printer.entity_ids["state"])
    assert state is not None
    assert state.state == PROFILES[integration].states["printing"][0]


async def test_register_bambu_printer(hass: HomeAssistant) -> None:
    printer = register_printer(hass, "bambu_lab", states={"progress": "7"})
    registry = er.async_get(hass)
    entries = er.async_entries_for_device(registry, printer.device_id)
    proposal = propose(profile_for("bambu_lab"), entries)

    assert proposal == printer.entity_ids
    assert (
        proposal["state"] == f"sensor.p1s_{SPECS['bambu_lab'].id.lower()}_print_status"
    )
    entry = registry.async_get(proposal["state"])
    assert entry is not None
    assert entry.unique_id == f"{SPECS['bambu_lab'].id}_print_status"
    assert entry.translation_key == "print_status"

    assert hass.states.get(proposal["state"]).state == "running"  # type: ignore[union-attr]
    assert hass.states.get(proposal["progress"]).state == "7"  # type: ignore[union-attr]
    assert hass.states.get(proposal["failure"]).state == "off"  # type: ignore[union-attr]

    printer.set_state("state", "pause")
    state = hass.states.get(proposal["state"])
    assert state is not None
    assert state.state == "pause"
    assert state.attributes["friendly_name"] == "Print status"

    device = dr.async_get(hass).async_get(printer.device_id)
    assert device is not None
    assert (device.name, device.manufacturer, device.model) == (
        f"P1S_{SPECS['bambu_lab'].id}",
        "Bambu Lab",
        "P1S",
    )
    assert ("bambu_lab", SPECS["bambu_lab"].id) in device.identifiers
