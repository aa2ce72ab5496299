"""A printer another integration already has: added in the flow, watched, paused.

Each printer is registered the way its integration registers it (`fakes.SPECS`: same
platform, unique-id shapes, translation keys and state values). Its camera and its
pause/resume/stop buttons are real entities of a stand-in integration of that domain
(the real one is not installed): pressing pause moves the print state to the
integration's own "paused" value, as the printer would.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
from dataclasses import dataclass, field
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import ButtonEntity
from homeassistant.components.camera import Camera
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigFlow,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_NAME, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from custom_components.print_sentinel.const import (
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_WARNING_ACTION,
    DOMAIN,
    EVENT_DETECTION,
)
from custom_components.print_sentinel.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.print_sentinel.printers.ha_profiles import PROFILES
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene, render_frame

from ..common import advance
from ..conftest import VISION_API_KEY
from .fakes import SPECS, FakePrinter, register_printer

INTEGRATIONS = ["bambu_lab", "octoprint", "moonraker", "prusalink", "elegoo_printer"]


class _StandInFlow(ConfigFlow):
    """The stand-in integrations' config flow (never run: entries are made directly)."""


@pytest.fixture(autouse=True)
def stand_in_flows() -> Generator[None]:
    """Let the stand-in integrations' entries be set up."""
    with ExitStack() as stack:
        for integration in INTEGRATIONS:
            stack.enter_context(mock_config_flow(integration, _StandInFlow))
        yield


@dataclass
class LivePrinter:
    """A registered printer whose camera and buttons work."""

    fake: FakePrinter
    integration: str
    scene: Scene = field(default_factory=lambda: Scene(0))
    presses: list[str] = field(default_factory=list)

    @property
    def states(self) -> dict[str, tuple[str, ...]]:
        """The integration's own state values."""
        return dict(PROFILES[self.integration].states)


class _Camera(Camera):
    _attr_has_entity_name = True

    def __init__(self, live: LivePrinter, unique_id: str, info: DeviceInfo) -> None:
        super().__init__()
        self._live = live
        self._attr_unique_id = unique_id
        self._attr_device_info = info

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        # a live camera: the picture changes from minute to minute
        minute = int(dt_util.utcnow().timestamp() // 60)
        return render_frame(self._live.scene, seed=minute, moving=True)


class _Button(ButtonEntity):
    _attr_has_entity_name = True

    def __init__(
        self, live: LivePrinter, role: str, unique_id: str, info: DeviceInfo
    ) -> None:
        self._live = live
        self._role = role
        self._attr_unique_id = unique_id
        self._attr_device_info = info

    async def async_press(self) -> None:
        self._live.presses.append(self._role)
        target = {"pause": "paused", "resume": "printing", "stop": "stopped"}[
            self._role
        ]
        values = self._live.states[target] or self._live.states["idle"]
        self._live.fake.set_state("state", values[0])


async def _live_printer(hass: HomeAssistant, integration: str) -> LivePrinter:
    fake = register_printer(hass, integration)
    live = LivePrinter(fake=fake, integration=integration)
    spec = SPECS[integration]
    info = DeviceInfo(identifiers={(integration, spec.identifier)})
    by_role = {e.role: e for e in spec.entities if e.role}

    async def setup_cameras(
        hass: HomeAssistant,
        entry: ConfigEntry,
        add: AddConfigEntryEntitiesCallback,
    ) -> None:
        camera = by_role.get("camera")
        if camera is not None and camera.domain == "camera":
            add([_Camera(live, spec.unique_id(camera), info)])

    async def setup_buttons(
        hass: HomeAssistant,
        entry: ConfigEntry,
        add: AddConfigEntryEntitiesCallback,
    ) -> None:
        add(
            _Button(live, role, spec.unique_id(by_role[role]), info)
            for role in ("pause", "resume", "stop")
            if role in by_role and by_role[role].domain == "button"
        )

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(
            entry, ["camera", "button"]
        )
        return True

    mock_integration(hass, MockModule(integration, async_setup_entry=setup_entry))
    mock_platform(hass, f"{integration}.config_flow")
    mock_platform(
        hass, f"{integration}.camera", MockPlatform(async_setup_entry=setup_cameras)
    )
    mock_platform(
        hass, f"{integration}.button", MockPlatform(async_setup_entry=setup_buttons)
    )
    for role in ("camera", "pause", "resume", "stop"):
        # the stand-in's real entities take over these registry entries
        if role in fake.entity_ids and by_role[role].domain in ("camera", "button"):
            hass.states.async_remove(fake.entity_ids[role])
    assert await hass.config_entries.async_setup(fake.config_entry.entry_id)
    await hass.async_block_till_done()
    return live


def _suggested(result: Any) -> dict[str, Any]:
    """What the form proposes, as the frontend fills it in."""
    values: dict[str, Any] = {}
    for field_ in result["data_schema"].schema:
        description = getattr(field_, "description", None) or {}
        if "suggested_value" in description:
            values[str(field_)] = description["suggested_value"]
    return values


async def _device_form(hass: HomeAssistant) -> Any:
    """Add integration > Print Sentinel > a printer already in Home Assistant."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "ha_device" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ha_device"}
    )
    assert result["step_id"] == "ha_device"
    return result


async def _add_through_the_flow(hass: HomeAssistant, device_id: str) -> ConfigEntry:
    result = await _device_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: device_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ha_entities"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _suggested(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    await hass.async_block_till_done()
    return result["result"]


def _ours(hass: HomeAssistant, entry: ConfigEntry, domain: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"{entry.unique_id}_{key}"
    )
    assert entity_id is not None, key
    return entity_id


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_printer_is_added_with_its_entities_proposed(
    hass: HomeAssistant, integration: str
) -> None:
    """Pick the device; every role the integration has is proposed; it loads."""
    live = await _live_printer(hass, integration)
    fake = live.fake
    result = await _device_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: fake.device_id}
    )
    proposed = _suggested(result)
    for role, entity_id in fake.entity_ids.items():
        assert proposed.get(f"{role}_entity") == entity_id, role
    assert proposed["printing_states"] == list(live.states["printing"])
    assert proposed["paused_states"] == list(live.states["paused"])

    result = await hass.config_entries.flow.async_configure(result["flow_id"], proposed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.unique_id == fake.device_id
    assert entry.title == SPECS[integration].device_name

    state = _ours(hass, entry, "sensor", "state")
    assert hass.states.get(state).state == "printing"
    # Print Sentinel's entities are on the printer's own device page, no second device
    registry = er.async_get(hass)
    assert registry.async_get(state).device_id == fake.device_id
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    # the same device cannot be added twice
    again = await _device_form(hass)
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {CONF_DEVICE_ID: fake.device_id}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"


@pytest.mark.parametrize("integration", INTEGRATIONS)
async def test_failing_print_is_paused_once_through_the_printers_button(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    vision: OpenAISimulator,
    integration: str,
) -> None:
    """Spaghetti on the integration's camera: its pause button is pressed once."""
    live = await _live_printer(hass, integration)
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    job_events: list[str] = []
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: VISION_API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
            CONF_CHECK_INTERVAL: 20,
            CONF_FAILURE_ACTION: "pause",
            CONF_WARNING_ACTION: "notify",
        },
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    job_event = _ours(hass, entry, "event", "print_job")
    state = _ours(hass, entry, "sensor", "state")

    # a new print starts (from idle), runs well for five minutes, then fails
    live.fake.set_state("state", live.states["idle"][0])
    await advance(hass, freezer, 1)
    live.fake.set_state("state", live.states["printing"][0])
    await advance(hass, freezer, 1)
    job_events.append(hass.states.get(job_event).attributes["event_type"])
    for _ in range(60):
        await advance(hass, freezer, 5)
    assert live.presses == []
    live.scene = Scene(92, "spaghetti")
    for _ in range(40):
        await advance(hass, freezer, 5)

    assert live.presses == ["pause"]
    assert hass.states.get(state).state == "paused"
    assert hass.states.get(job_event).attributes["event_type"] == "paused"
    assert job_events == ["started"]
    failure = [e for e in detections if e.data["level"] == "failure"]
    assert len(failure) == 1
    assert failure[0].data["action"] == "paused"
    assert failure[0].data["device_id"] == live.fake.device_id
    assert (
        hass.states.get(_ours(hass, entry, "binary_sensor", "failure_detected")).state
        == STATE_ON
    )
    # paused: never a second press
    for _ in range(24):
        await advance(hass, freezer, 5)
    assert live.presses == ["pause"]


async def test_state_entity_unavailable_makes_the_printer_unavailable_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The integration loses its printer: ours go unavailable, one log line, back."""
    live = await _live_printer(hass, "bambu_lab")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    state = _ours(hass, entry, "sensor", "state")
    caplog.set_level(logging.INFO)
    caplog.clear()
    for _ in range(3):
        live.fake.set_state("state", STATE_UNAVAILABLE)
        await advance(hass, freezer, 31)
    assert hass.states.get(state).state == STATE_UNAVAILABLE
    outage = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.print_sentinel")
        and r.levelno >= logging.WARNING
    ]
    assert len(outage) == 1, [r.getMessage() for r in outage]
    assert live.presses == []
    live.fake.set_state("state", "running")
    await advance(hass, freezer, 1)
    assert hass.states.get(state).state == "printing"


async def test_bambu_own_failure_detection_is_a_failure_already_decided(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    vision: OpenAISimulator,
) -> None:
    """Bambu's print error turns on and it pauses itself: a failure event, no press."""
    live = await _live_printer(hass, "bambu_lab")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: VISION_API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
            CONF_FAILURE_ACTION: "pause",
        },
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, 30)

    live.fake.set_state("failure", STATE_ON)
    live.fake.set_state("state", "pause")
    await advance(hass, freezer, 1)
    await advance(hass, freezer, 30)

    failure = [e for e in detections if e.data["level"] == "failure"]
    assert len(failure) == 1
    assert failure[0].data["verdict"]["detector"] == "printer"
    assert failure[0].data["action"] == "none"
    assert live.presses == []
    assert (
        hass.states.get(_ours(hass, entry, "binary_sensor", "failure_detected")).state
        == STATE_ON
    )


async def test_reconfigure_changes_the_entities_and_state_values(
    hass: HomeAssistant,
) -> None:
    """A state value the profile does not know is mapped later in reconfigure."""
    live = await _live_printer(hass, "bambu_lab")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    state = _ours(hass, entry, "sensor", "state")
    live.fake.set_state("state", "idle")
    await hass.async_block_till_done()
    live.fake.set_state("state", "prepare")  # before the next print
    await hass.async_block_till_done()
    assert hass.states.get(state).state == "busy"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "ha_entities"
    values = _suggested(result)
    assert values["state_entity"] == live.fake.entity_ids["state"]
    values["printing_states"] = [*values["printing_states"], "prepare"]
    del values["camera_entity"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert "camera" not in entry.data["entities"]
    assert hass.states.get(state).state == "printing"


async def test_form_refuses_what_cannot_work(hass: HomeAssistant) -> None:
    """A missing entity, a wrong kind of entity, no printing value: clear errors."""
    live = await _live_printer(hass, "octoprint")
    result = await _device_form(hass)
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "no-such-device"}
    )
    assert bad["errors"] == {CONF_DEVICE_ID: "device_not_found"}
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: live.fake.device_id, CONF_NAME: "V\x07oron"}
    )
    assert bad["errors"] == {CONF_NAME: "invalid_name"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: live.fake.device_id}
    )
    values = _suggested(result)
    for changes, errors in (
        ({"state_entity": "sensor.nothing_here"}, {"state_entity": "entity_not_found"}),
        ({"printing_states": []}, {"printing_states": "no_printing_state"}),
        (
            {"paused_states": [*values["paused_states"], values["printing_states"][0]]},
            {"paused_states": "state_in_two_lists"},
        ),
        (
            {"idle_states": [f"standby {n}" for n in range(21)]},
            {"idle_states": "too_many_state_values"},
        ),
        (
            {"error_states": ["x" * 65]},
            {"error_states": "state_value_too_long"},
        ),
        (
            {"error_states": ["fail\x00ed"]},
            {"error_states": "invalid_state_value"},
        ),
        (
            {"stop_entity": values["pause_entity"]},
            {"stop_entity": "same_entity_in_two_roles"},
        ),
        (
            {"resume_entity": values["pause_entity"]},
            {"resume_entity": "same_entity_in_two_roles"},
        ),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**values, **changes}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_print_sentinels_own_device_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    device = dr.async_entries_for_config_entry(
        dr.async_get(hass), init_integration.entry_id
    )[0]
    result = await _device_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: device.id}
    )
    assert result["errors"] == {CONF_DEVICE_ID: "own_device"}


async def test_renamed_state_entity_is_followed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The user renames the printer's state entity: Print Sentinel keeps reading it."""
    live = await _live_printer(hass, "bambu_lab")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    state = _ours(hass, entry, "sensor", "state")
    old = live.fake.entity_ids["state"]
    new = "sensor.workshop_printer_status"

    er.async_get(hass).async_update_entity(old, new_entity_id=new)
    # the other integration's entity now writes its state under the new id
    hass.states.async_remove(old)
    live.fake.entity_ids["state"] = new
    live.fake.set_state("state", live.states["paused"][0])
    await hass.async_block_till_done()
    # the entry reloads; if it came before the renamed entity's first state, the
    # setup retries a few seconds later
    await advance(hass, freezer, 11)

    assert entry.data["entities"]["state"] == new
    assert hass.states.get(state).state == "paused"
    live.fake.set_state("state", live.states["printing"][0])
    await advance(hass, freezer, 1)
    assert hass.states.get(state).state == "printing"
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"entity_missing_{entry.entry_id}"
    )


async def test_removed_entity_raises_a_repair_issue_until_reconfigured(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The pause button disappears: a repair names it; reconfiguring clears it."""
    live = await _live_printer(hass, "octoprint")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    pause = live.fake.entity_ids["pause"]
    issue_id = f"entity_missing_{entry.entry_id}"

    er.async_get(hass).async_remove(pause)
    await hass.async_block_till_done()

    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "entity_missing"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["entities"] == pause
    # the printer itself is still watched
    assert hass.states.get(_ours(hass, entry, "sensor", "state")).state == "printing"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    values = _suggested(result)
    values.pop("pause_entity", None)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_removing_the_other_integration_is_one_issue_and_one_log_line(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """All of the printer's entities go at once (its integration was removed)."""
    live = await _live_printer(hass, "octoprint")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    chosen = sorted(set(entry.data["entities"].values()))
    caplog.clear()

    registry = er.async_get(hass)
    for entity_id in chosen:
        registry.async_remove(entity_id)
        hass.states.async_remove(entity_id)
    await hass.async_block_till_done()

    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
        and "no longer in Home Assistant" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert all(entity_id in warnings[0] for entity_id in chosen)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"entity_missing_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders["entities"] == ", ".join(chosen)


async def test_state_entity_gone_after_a_restart_is_a_repair_not_a_silent_outage(
    hass: HomeAssistant,
) -> None:
    """An entity removed while Print Sentinel was not loaded: an ERROR repair issue."""
    live = await _live_printer(hass, "moonraker")
    entry = await _add_through_the_flow(hass, live.fake.device_id)
    await hass.config_entries.async_unload(entry.entry_id)
    state = live.fake.entity_ids["state"]
    er.async_get(hass).async_remove(state)
    hass.states.async_remove(state)

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"entity_missing_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders["entities"] == state

    await hass.config_entries.async_remove(entry.entry_id)
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"entity_missing_{entry.entry_id}")
        is None
    )


async def test_the_name_the_user_typed_stays_out_of_diagnostics(
    hass: HomeAssistant,
) -> None:
    """The printer's name is the user's, like the entry title: redacted."""
    live = await _live_printer(hass, "octoprint")
    result = await _device_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_DEVICE_ID: live.fake.device_id, CONF_NAME: "Garage Voron of Jane Roe"},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _suggested(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["device_id"] == live.fake.device_id
    assert "Jane Roe" not in json.dumps(diagnostics)
