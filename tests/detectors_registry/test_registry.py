"""The registry is the one list of detectors the rest of the integration reads.

`test_a_registered_detector_is_offered_checked_built_and_run` is the recipe in
practice: a detector type registered here, without touching any other module, is
offered by the options flow, gets its `detector_<key>` step with its checks, is
built when the entry loads and answers the `vision_check` service.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, selector
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.print_sentinel import diagnostics, options_flow, services
from custom_components.print_sentinel.const import (
    CONF_DETECTOR,
    CONF_SNAPSHOT_URL,
    DETECTOR_NONE,
    DOMAIN,
)
from custom_components.print_sentinel.detection import registry
from custom_components.print_sentinel.detection.registry import (
    PASSWORD,
    DetectorType,
    detector_keys,
    detector_types,
)
from custom_components.print_sentinel.detection.setup import (
    DetectorNotConfigured,
    async_validate_detector,
    build_detector,
    detector_form_errors,
)
from custom_components.print_sentinel.detection.verdict import (
    FailureKind,
    Frame,
    Verdict,
)
from simulators.prusalink import PrusaLinkSimulator

from ..conftest import PRINTER_SERIAL

PACKAGE = Path(__file__).parents[2] / "custom_components" / DOMAIN
STRINGS = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
BUILTIN = ("openai", "ai_task", "gadget", "printwatch")

DUMMY = "dummy"
DUMMY_TOKEN = "dummy_token"
DUMMY_SCORE = "dummy_score"
TOKEN = "dummy-Token-42"
DETECTION = {
    "check_interval": 30,
    "frame_count": 1,
    "sensitivity": "medium",
    "policy": "sentinel",
    "failure_action": "pause",
    "warning_action": "notify",
    "resume_grace": 300,
}


class DummyDetector:
    """A detector that answers the score it was configured with."""

    name = DUMMY
    max_frames = 1

    def __init__(self, token: str, score: float, camera_entity_id: str) -> None:
        """Remember what the registry's build passed."""
        self.token = token
        self.score = score
        self.camera_entity_id = camera_entity_id
        self.calls: list[int] = []

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Judge the frames: always the configured score."""
        self.calls.append(len(frames))
        return Verdict(
            failure_score=self.score,
            print_quality=None,
            warning=False,
            pause=False,
            kind=FailureKind.NONE,
            reason="dummy",
            detector=DUMMY,
            latency_ms=1.0,
        )

    async def async_start_print(self, print_id: str) -> None:
        """Nothing to reset."""


BUILT: list[DummyDetector] = []


def _build_dummy(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any], camera: str
) -> DummyDetector:
    detector = DummyDetector(options[DUMMY_TOKEN], options[DUMMY_SCORE], camera)
    BUILT.append(detector)
    return detector


def _dummy_form_errors(options: Mapping[str, Any]) -> dict[str, str]:
    return {} if 0 <= options[DUMMY_SCORE] <= 100 else {DUMMY_SCORE: "unknown"}


DUMMY_TYPE = DetectorType(
    key=DUMMY,
    options_schema=lambda: vol.Schema(
        {
            vol.Required(DUMMY_TOKEN): PASSWORD,
            vol.Optional(DUMMY_SCORE): vol.Coerce(float),
        }
    ),
    build=_build_dummy,
    defaults={DUMMY_SCORE: 12.0},
    required=(DUMMY_TOKEN,),
    secret_keys=(DUMMY_TOKEN,),
    form_errors=_dummy_form_errors,
)


@pytest.fixture
def dummy() -> Generator[DetectorType]:
    """The dummy detector, registered for one test."""
    BUILT.clear()
    unregister = registry.register(DUMMY_TYPE)
    yield DUMMY_TYPE
    unregister()
    assert DUMMY not in detector_keys()


# --- the built-in detectors --------------------------------------------------------


def test_the_builtin_detectors_in_the_selects_order() -> None:
    assert detector_keys() == BUILTIN
    select = options_flow.DETECTION_SCHEMA.schema[CONF_DETECTOR]
    assert isinstance(select, selector.SelectSelector)
    assert select.config["options"] == [DETECTOR_NONE, *BUILTIN]


def test_the_api_keys_are_secret() -> None:
    assert {"openai_api_key", "gadget_api_key", "printwatch_api_key"} <= (
        registry.secret_option_keys()
    )
    # diagnostics redact them with every other secret
    assert {"openai_api_key", "password", "token"} <= diagnostics._to_redact()


def test_services_yaml_lists_the_registry() -> None:
    """services.yaml is static: a new detector adds its key there too."""
    data = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    field = data["vision_check"]["fields"]["detector"]["selector"]["select"]
    assert field["options"] == list(detector_keys())
    assert field["translation_key"] == CONF_DETECTOR


@pytest.mark.parametrize("detector_type", detector_types(), ids=lambda t: t.key)
def test_every_detector_has_its_strings(detector_type: DetectorType) -> None:
    step = STRINGS["options"]["step"][f"detector_{detector_type.key}"]
    assert step["title"]
    for key in detector_type.options_schema().schema:
        assert str(key) in step["data"]
        assert str(key) in step["data_description"]
    # the options flow's select and vision_check's share these labels
    assert detector_type.key in STRINGS["selector"][CONF_DETECTOR]["options"]


@pytest.mark.parametrize("detector_type", detector_types(), ids=lambda t: t.key)
def test_form_errors_are_translated(
    hass: HomeAssistant, detector_type: DetectorType
) -> None:
    """Every field typed wrong: each error the form shows has a translation."""
    hostile: dict[str, Any] = {CONF_DETECTOR: detector_type.key}
    for key in detector_type.options_schema().schema:
        hostile[str(key)] = "not a key\nnor a URL"
    errors = detector_form_errors(hostile)
    assert set(errors) <= set(hostile)
    assert set(errors.values()) <= set(STRINGS["options"]["error"])
    for secret in detector_type.secret_keys:
        assert errors[secret] == "invalid_key_format"
    if detector_type.check is not None:
        error = detector_type.check(hass, detector_type.resolve(hostile))
        assert error is None or error in STRINGS["options"]["error"]


def test_keys_must_be_step_ids() -> None:
    for key in ("none", "Has Space", "openai"):
        with pytest.raises(ValueError, match="detector"):
            registry.register(
                DetectorType(
                    key=key, options_schema=lambda: vol.Schema({}), build=_build_dummy
                )
            )
    assert detector_keys() == BUILTIN


# --- a new detector: one registry entry -----------------------------------------


async def test_a_registered_detector_is_known_everywhere(
    hass: HomeAssistant, dummy: DetectorType, mock_config_entry: MockConfigEntry
) -> None:
    assert detector_keys()[-1] == DUMMY
    assert DUMMY_TOKEN in diagnostics._to_redact()
    assert options_flow.DETECTOR_SCHEMAS[DUMMY].schema.keys() == {
        DUMMY_TOKEN,
        DUMMY_SCORE,
    }
    assert services.VISION_CHECK_SCHEMA({"device_id": "abc", "detector": DUMMY}) == {
        "device_id": "abc",
        "detector": DUMMY,
    }
    options = {CONF_DETECTOR: DUMMY}
    with pytest.raises(DetectorNotConfigured):  # `required`
        build_detector(hass, mock_config_entry, options, "camera.x")
    assert detector_form_errors({**options, DUMMY_TOKEN: "a b"}) == {
        DUMMY_TOKEN: "invalid_key_format"
    }
    assert detector_form_errors({**options, DUMMY_SCORE: 101.0}) == {
        DUMMY_SCORE: "unknown"
    }
    detector = build_detector(
        hass, mock_config_entry, {**options, DUMMY_TOKEN: TOKEN}, "camera.x"
    )
    assert isinstance(detector, DummyDetector)
    assert (detector.token, detector.score) == (TOKEN, 12.0)  # the default
    assert detector.camera_entity_id == "camera.x"
    # no `check` and no `async_validate`: nothing to call in the options flow
    assert (
        await async_validate_detector(
            hass, mock_config_entry, {**options, DUMMY_TOKEN: TOKEN}
        )
        is None
    )


async def test_a_registered_detector_is_offered_checked_built_and_run(
    hass: HomeAssistant,
    dummy: DetectorType,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SNAPSHOT_URL: printer.snapshot_url}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.runtime_data.monitor is None

    # the detection step offers it ...
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "detection"}
    )
    select = result["data_schema"].schema[CONF_DETECTOR]
    assert select.config["options"] == [DETECTOR_NONE, *BUILTIN, DUMMY]
    # ... and its own step follows, with its fields and the generic checks
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DETECTION, CONF_DETECTOR: DUMMY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"detector_{DUMMY}"
    assert set(result["data_schema"].schema) == {DUMMY_TOKEN, DUMMY_SCORE}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {DUMMY_TOKEN: "two words"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {DUMMY_TOKEN: "invalid_key_format"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {DUMMY_TOKEN: TOKEN, DUMMY_SCORE: 7}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_DETECTOR] == DUMMY
    assert mock_config_entry.options[DUMMY_TOKEN] == TOKEN
    await hass.async_block_till_done()  # the entry reloads with the detector

    monitor = mock_config_entry.runtime_data.monitor
    assert monitor is not None
    assert isinstance(monitor.detector, DummyDetector)
    assert monitor.detector.score == 7.0

    # a check on demand runs it
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, PRINTER_SERIAL), mock_config_entry.entry_id
    )
    assert device is not None
    for data in ({}, {"detector": DUMMY}):
        response = await hass.services.async_call(
            DOMAIN,
            "vision_check",
            {"device_id": device.id, **data},
            blocking=True,
            return_response=True,
        )
        assert response is not None
        assert response["detector"] == DUMMY
        assert response["failure_score"] == 7.0
        assert response["frames"] == 1
    assert [d.calls for d in BUILT[-2:]] == [[1], [1]]  # the monitor's, the override's
