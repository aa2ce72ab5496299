"""Home Assistant's AI Task as the detector, through the whole loop in Home Assistant.

A print on the simulated printer, the integration's own camera (the printer's
snapshot URL), an AI Task entity of another integration that judges each snapshot
it is given: a good print is left alone, spaghetti is paused once.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_AI_TASK_ENTITY,
    CONF_CHECK_INTERVAL,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_SNAPSHOT_URL,
)
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene, read_scene

from .detectors.test_ai_task import (  # noqa: F401 - fixtures used by name
    AI_ENTITY,
    RecordingAITask,
    config_flow_mocked,
    fake_camera,
    judge,
    setup_entities,
    text_only,
)
from .test_detection import FAILURE, SCORE, _pauses, _print_for


async def _print_watched_by_ai_task(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    entry: MockConfigEntry,
    scene: Scene,
) -> None:
    """Set the printer up with the AI Task detector and start a print of `scene`."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_DETECTOR: "ai_task",
            CONF_AI_TASK_ENTITY: AI_ENTITY,
            CONF_CHECK_INTERVAL: 20,
            CONF_FAILURE_ACTION: "pause",
        },
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    printer.start_job(display_name="part.bgcode", duration=7200)
    printer.set_scene(scene)


async def test_ai_task_watches_a_print_and_pauses_spaghetti_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    setup_entities: None,  # noqa: F811
    judge: RecordingAITask,  # noqa: F811
) -> None:
    await _print_watched_by_ai_task(hass, printer, mock_config_entry, Scene(0))
    await _print_for(hass, freezer, printer, 240)

    good_checks = len(judge.tasks)
    assert good_checks >= 8  # a check every 20 s while printing
    # the AI Task saw the printer's camera: the frames carry the printer's scene
    assert read_scene(judge.attachments[-1]).failure == 0
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF

    printer.set_scene(Scene(93, "spaghetti"))
    await _print_for(hass, freezer, printer, 240)

    assert read_scene(judge.attachments[-1]).kind == "spaghetti"
    assert _pauses(printer) == 1
    assert printer.state == "PAUSED"
    assert hass.states.get(FAILURE).state == STATE_ON
    assert float(hass.states.get(SCORE).state) >= 80


async def test_ai_task_errors_and_nonsense_never_pause(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
    setup_entities: None,  # noqa: F811
    judge: RecordingAITask,  # noqa: F811
) -> None:
    await _print_watched_by_ai_task(
        hass, printer, mock_config_entry, Scene(95, "spaghetti")
    )

    def nonsense(_: bytes) -> Any:
        return {"failure_score": "very high", "kind": "spaghetti"}

    judge.answer = nonsense
    await _print_for(hass, freezer, printer, 300)

    assert len(judge.tasks) >= 8
    assert _pauses(printer) == 0
    assert hass.states.get(FAILURE).state == STATE_OFF
