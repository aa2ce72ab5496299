"""The vision_check service beyond the happy path: one-shot checks and its errors."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.print_sentinel.const import (
    CONF_AI_TASK_ENTITY,
    CONF_DETECTOR,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_PRINTER_TYPE,
    CONF_SNAPSHOT_URL,
    DOMAIN,
    PRINTER_TYPE_PRUSALINK,
)
from simulators.openai_compat import OpenAISimulator
from simulators.prusalink import PrusaLinkSimulator
from simulators.scene import Scene

from .common import advance
from .conftest import PRINTER_SERIAL
from .test_detection import API_KEY, FAILURE, SCORE, _pauses


@pytest.fixture
async def vision(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """The OpenAI-compatible simulator."""
    sim = OpenAISimulator(API_KEY, seed=1, false_positive_rate=0.0)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def watched(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
) -> MockConfigEntry:
    """The printer with failure detection on (OpenAI, the printer's camera)."""
    await _setup(
        hass,
        mock_config_entry,
        **{
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_DETECTOR: "openai",
            CONF_OPENAI_API_KEY: API_KEY,
            CONF_OPENAI_BASE_URL: vision.url,
        },
    )
    return mock_config_entry


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), entry.entry_id
    )
    assert device is not None
    return device.id


async def _vision_check(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "vision_check", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def _setup(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def vision_without_monitor(
    printer: PrusaLinkSimulator, vision: OpenAISimulator
) -> dict[str, Any]:
    """Options with OpenAI credentials saved but failure detection off."""
    return {
        CONF_DETECTOR: "none",
        CONF_SNAPSHOT_URL: printer.snapshot_url,
        CONF_OPENAI_API_KEY: API_KEY,
        CONF_OPENAI_BASE_URL: vision.url,
    }


# --- one-shot checks while detection is off ------------------------------------------


async def test_detector_override_checks_once_while_detection_is_off(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    vision_without_monitor: dict[str, Any],
) -> None:
    await _setup(hass, mock_config_entry, **vision_without_monitor)
    assert hass.states.get(FAILURE) is None  # no monitor, no detection entities
    printer.start_job(display_name="part.bgcode")
    printer.set_scene(Scene(90, "detachment"))

    response = await _vision_check(
        hass, device_id=_device_id(hass, mock_config_entry), detector="openai"
    )

    assert response["kind"] == "detachment"
    assert response["detector"] == "openai"
    assert response["frames"] == 1
    assert response["decision"] is None  # nothing decided: there is no monitor
    assert response["camera_entity_id"] == "camera.prusa_mk4s_camera"
    assert [r.status for r in vision.requests] == [200]
    assert vision.requests[0].image_count == 1
    assert _pauses(printer) == 0


async def test_one_shot_check_with_a_refused_key(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    vision_without_monitor: dict[str, Any],
) -> None:
    await _setup(
        hass,
        mock_config_entry,
        **{**vision_without_monitor, CONF_OPENAI_API_KEY: "sk-revoked-000000000"},
    )

    response = await _vision_check(
        hass, device_id=_device_id(hass, mock_config_entry), detector="openai"
    )

    # an outcome the automation reads, not an exception (REST: 200, not 500)
    assert response["error"] == "detector_auth"
    assert response["message"] == ("The detector refused the API key (invalid_api_key)")
    assert response["pause"] is False
    assert response["detector"] == "openai"
    assert "sk-revoked" not in str(response)
    # a check on demand raises no repair issue: only the monitor stops for a key
    assert ir.async_get(hass).issues == {}


async def test_override_with_an_ai_task_that_is_not_set_up(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(
        hass,
        mock_config_entry,
        **{
            CONF_SNAPSHOT_URL: printer.snapshot_url,
            CONF_AI_TASK_ENTITY: "ai_task.assistant",
        },
    )

    response = await _vision_check(
        hass, device_id=_device_id(hass, mock_config_entry), detector="ai_task"
    )

    assert response["error"] == "detector_failed"
    assert response["message"].startswith("The detector could not check the picture")
    assert "AI Task integration is not set up" in response["message"]


async def test_override_with_a_detector_lacking_its_key(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    await _setup(hass, mock_config_entry, **{CONF_SNAPSHOT_URL: printer.snapshot_url})

    for detector in ("printwatch", "ai_task"):
        with pytest.raises(ServiceValidationError) as err:
            await _vision_check(
                hass, device_id=_device_id(hass, mock_config_entry), detector=detector
            )
        assert err.value.translation_key == "detector_not_configured"
        assert err.value.translation_placeholders == {"detector": detector}


@pytest.fixture
def without_camera_platform() -> Generator[None]:
    """Set the printer up without its camera entity (nothing to take a frame from)."""
    platforms = [Platform.BINARY_SENSOR, Platform.SENSOR, Platform.SWITCH]
    with patch("custom_components.print_sentinel.PLATFORMS", platforms):
        yield


@pytest.mark.usefixtures("without_camera_platform")
async def test_no_camera_to_check(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    mock_config_entry: MockConfigEntry,
    vision_without_monitor: dict[str, Any],
) -> None:
    options = {
        k: v for k, v in vision_without_monitor.items() if k != CONF_SNAPSHOT_URL
    }
    await _setup(hass, mock_config_entry, **options)

    with pytest.raises(ServiceValidationError) as err:
        await _vision_check(
            hass, device_id=_device_id(hass, mock_config_entry), detector="openai"
        )

    assert err.value.translation_key == "no_camera"
    assert vision.requests == []


# --- errors while detection is on --------------------------------------------------------


async def test_refused_key_during_a_check(
    hass: HomeAssistant,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    vision.set_mode("forbidden")

    response = await _vision_check(hass, device_id=_device_id(hass, watched))

    assert response["error"] == "detector_auth"
    assert "unsupported_country_region_territory" in response["message"]
    assert response["decision"] == "ok"  # nothing was decided on an error


async def test_camera_failure_during_a_check(
    hass: HomeAssistant,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    printer.faults.camera_error = True

    response = await _vision_check(hass, device_id=_device_id(hass, watched))

    assert response["error"] == "camera_failed"
    assert response["message"].startswith(
        "Could not get a picture from camera.prusa_mk4s_camera"
    )
    assert response["camera_entity_id"] == "camera.prusa_mk4s_camera"
    assert vision.requests == []  # no frame, no detector call


async def test_another_camera_is_checked_alone_and_leaves_the_printer_alone(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    printer: PrusaLinkSimulator,
    vision: OpenAISimulator,
    watched: MockConfigEntry,
) -> None:
    """A check of another printer's camera sees only that camera, not recent frames of
    the watched one, and its verdict is not the watched printer's score."""
    async with PrusaLinkSimulator("other-pw", serial="10589-0000000000000002") as other:
        neighbour = MockConfigEntry(
            domain=DOMAIN,
            title="Neighbour",
            unique_id="10589-0000000000000002",
            data={
                CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
                CONF_HOST: other.url,
                CONF_USERNAME: "maker",
                CONF_PASSWORD: "other-pw",
            },
            options={CONF_SNAPSHOT_URL: other.snapshot_url},
        )
        neighbour.add_to_hass(hass)
        assert await hass.config_entries.async_setup(neighbour.entry_id)
        await hass.async_block_till_done()
        printer.start_job(display_name="part.bgcode", duration=7200)
        for _ in range(6):  # the watched printer's checks keep recent frames
            await advance(hass, freezer, 31)
        assert vision.requests
        score = hass.states.get(SCORE)
        other.set_scene(Scene(90, "detachment"))
        checks = len(vision.requests)
        (camera,) = [
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), neighbour.entry_id
            )
            if e.domain == "camera"
        ]

        response = await _vision_check(
            hass,
            device_id=_device_id(hass, watched),
            camera_entity_id=camera,
            frame_count=3,
        )

        assert response["kind"] == "detachment"
        assert response["camera_entity_id"] == camera
        assert response["frames"] == 1
        assert [r.image_count for r in vision.requests[checks:]] == [1]
        assert hass.states.get(SCORE) == score  # the watched printer's score stands
        assert hass.states.get(FAILURE).state == "off"
        assert _pauses(printer) == 0


# --- which printer ------------------------------------------------------------------------


async def test_printer_that_is_not_loaded(
    hass: HomeAssistant, vision: OpenAISimulator, watched: MockConfigEntry
) -> None:
    device_id = _device_id(hass, watched)
    assert await hass.config_entries.async_unload(watched.entry_id)

    for service in ("vision_check", "reset_detection"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                service,
                {"device_id": device_id},
                blocking=True,
                return_response=service == "vision_check",
            )
        assert err.value.translation_key == "printer_not_loaded"
        assert err.value.translation_placeholders == {"printer": "Prusa MK4S"}
    assert vision.requests == []


async def test_device_of_another_integration(
    hass: HomeAssistant, vision: OpenAISimulator, watched: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain="hue", title="Hue bridge")
    other.add_to_hass(hass)
    lamp = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("hue", "lamp-1")}
    )

    with pytest.raises(ServiceValidationError) as err:
        await _vision_check(hass, device_id=lamp.id)

    assert err.value.translation_key == "device_not_found"
    assert err.value.translation_placeholders == {"device_id": lamp.id}
    assert vision.requests == []
