"""AITaskDetector against a real AI Task entity and a real camera entity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

from homeassistant.components import ai_task, camera, conversation
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.setup import async_setup_component
import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from custom_components.print_sentinel.detection.detectors.ai_task import (
    AITaskDetector,
    camera_attachment,
    verdict_structure,
)
from custom_components.print_sentinel.detection.prompt import (
    KINDS,
    PAUSE_SCORE,
    TASK_NAME,
    WARNING_SCORE,
)
from custom_components.print_sentinel.detection.verdict import (
    DetectorBadResponse,
    DetectorUnavailable,
    FailureKind,
)
from simulators.scene import Scene, read_scene, render_frame

TEST_DOMAIN = "test_vision"
AI_ENTITY = "ai_task.print_judge"
PLAIN_AI_ENTITY = "ai_task.text_only"
CAMERA = "camera.printer_cam"


class FakeCamera(camera.Camera):
    """A camera entity showing whatever scene a test renders."""

    _attr_name = "Printer cam"
    _attr_unique_id = "printer_cam"

    def __init__(self) -> None:
        """Start with a good print."""
        super().__init__()
        self.image: bytes | None = render_frame(Scene(0))

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the picture (None makes HA raise 'Unable to get image')."""
        return self.image


def judge_by_scene(image: bytes) -> dict[str, Any]:
    """What a vision model would answer: the scene encoded in the frame."""
    scene = read_scene(image)
    return {
        "failure_score": scene.failure,
        "print_quality": max(1, 10 - scene.failure // 10),
        "kind": scene.kind,
        "reason": f"Looks like {scene.kind}.",
    }


class RecordingAITask(ai_task.AITaskEntity):
    """An AI Task entity that reads each attachment and records the task."""

    def __init__(self, name: str, features: ai_task.AITaskEntityFeature) -> None:
        """Judge attachments with `judge_by_scene` unless a test overrides it."""
        self._attr_name = name
        self._attr_unique_id = name
        self._attr_supported_features = features
        self.tasks: list[ai_task.GenDataTask] = []
        self.attachments: list[bytes] = []
        self.answer: Callable[[bytes], Any] = judge_by_scene
        self.error: Exception | None = None
        self.hang: asyncio.Event | None = None

    async def _async_generate_data(
        self, task: ai_task.GenDataTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenDataTaskResult:
        """Read the snapshot (the file goes away after the task) and answer."""
        self.tasks.append(task)
        images = [
            await self.hass.async_add_executor_job(attachment.path.read_bytes)
            for attachment in task.attachments or []
        ]
        self.attachments.extend(images)
        if self.hang is not None:
            await self.hang.wait()
        if self.error is not None:
            raise self.error
        return ai_task.GenDataTaskResult(
            conversation_id=chat_log.conversation_id,
            data=self.answer(images[0] if images else b""),
        )


class _TestFlow(ConfigFlow):
    """The mock integration's (unused) config flow."""


@pytest.fixture
def judge() -> RecordingAITask:
    """The AI Task entity that supports attachments."""
    return RecordingAITask(
        "Print judge",
        ai_task.AITaskEntityFeature.GENERATE_DATA
        | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS,
    )


@pytest.fixture
def text_only() -> RecordingAITask:
    """An AI Task entity without attachment support."""
    return RecordingAITask("Text only", ai_task.AITaskEntityFeature.GENERATE_DATA)


@pytest.fixture
def fake_camera() -> FakeCamera:
    """The printer camera."""
    return FakeCamera()


@pytest.fixture
def config_flow_mocked(hass: HomeAssistant) -> Generator[None]:
    """Let the mock integration own config entries."""
    mock_platform(hass, f"{TEST_DOMAIN}.config_flow")
    with mock_config_flow(TEST_DOMAIN, _TestFlow):
        yield


@pytest.fixture
async def setup_entities(
    hass: HomeAssistant,
    config_flow_mocked: None,
    judge: RecordingAITask,
    text_only: RecordingAITask,
    fake_camera: FakeCamera,
) -> None:
    """Set up ai_task and camera with a config entry of a mock integration."""
    assert await async_setup_component(hass, "homeassistant", {})

    async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(
            entry, [Platform.AI_TASK, Platform.CAMERA]
        )
        return True

    async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(
            entry, [Platform.AI_TASK, Platform.CAMERA]
        )

    async def async_setup_ai_task(
        hass: HomeAssistant,
        entry: ConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        async_add_entities([judge, text_only])

    async def async_setup_camera(
        hass: HomeAssistant,
        entry: ConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        async_add_entities([fake_camera])

    mock_integration(
        hass,
        MockModule(
            TEST_DOMAIN,
            async_setup_entry=async_setup_entry,
            async_unload_entry=async_unload_entry,
        ),
    )
    mock_platform(
        hass,
        f"{TEST_DOMAIN}.ai_task",
        MockPlatform(async_setup_entry=async_setup_ai_task),
    )
    mock_platform(
        hass,
        f"{TEST_DOMAIN}.camera",
        MockPlatform(async_setup_entry=async_setup_camera),
    )
    entry = MockConfigEntry(domain=TEST_DOMAIN)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert judge.entity_id == AI_ENTITY
    assert text_only.entity_id == PLAIN_AI_ENTITY
    assert fake_camera.entity_id == CAMERA


@pytest.fixture
def detector(hass: HomeAssistant, setup_entities: None) -> AITaskDetector:
    """The detector asking the judge about the printer camera."""
    return AITaskDetector(hass, AI_ENTITY, CAMERA)


async def test_sends_the_camera_snapshot_and_the_structure(
    detector: AITaskDetector, judge: RecordingAITask, fake_camera: FakeCamera
) -> None:
    fake_camera.image = render_frame(Scene(92, "spaghetti"), seed=4)

    verdict = await detector.async_analyze([])

    (task,) = judge.tasks
    assert task.name == TASK_NAME
    assert "3D printer" in task.instructions
    assert "One frame" in task.instructions
    assert task.attachments is not None
    (attachment,) = task.attachments
    assert attachment.media_content_id == f"media-source://camera/{CAMERA}"
    assert attachment.mime_type == "image/jpeg"
    assert judge.attachments == [fake_camera.image]
    assert task.structure is not None
    task.structure(
        {"failure_score": 5, "print_quality": 9, "kind": "none", "reason": "Fine."}
    )
    with pytest.raises(probatio.Invalid):
        task.structure(
            {
                "failure_score": 5,
                "print_quality": 9,
                "kind": "none",
                "reason": "",
                "x": 1,
            }
        )
    with pytest.raises(probatio.Invalid):
        task.structure(
            {"failure_score": 500, "print_quality": 9, "kind": "none", "reason": ""}
        )

    assert verdict.failure_score == 92
    assert verdict.kind is FailureKind.SPAGHETTI
    assert verdict.pause
    assert verdict.warning
    assert verdict.print_quality == 1
    assert verdict.detector == "ai_task"
    assert verdict.usage.calls == 1
    assert verdict.usage.cost_usd == 0


async def test_good_print_scores_low(
    detector: AITaskDetector, fake_camera: FakeCamera
) -> None:
    fake_camera.image = render_frame(Scene(3))

    verdict = await detector.async_analyze([])

    assert verdict.failure_score < WARNING_SCORE
    assert verdict.kind is FailureKind.NONE
    assert not verdict.warning
    assert not verdict.pause


async def test_json_text_answers_are_read(
    detector: AITaskDetector, judge: RecordingAITask
) -> None:
    judge.answer = lambda _: (
        '{"failure_score": 85, "print_quality": 2, "kind": "detachment", "reason": "Moved."}'
    )

    verdict = await detector.async_analyze([])

    assert verdict.failure_score >= PAUSE_SCORE
    assert verdict.kind is FailureKind.DETACHMENT


@pytest.mark.parametrize(
    "answer",
    [
        {"answer": "YES"},
        "YES",
        None,
        ["spaghetti"],
        {"failure_score": 150, "print_quality": 2, "kind": "blob", "reason": "x"},
        {"failure_score": 90, "print_quality": 2, "kind": "blob"},
        {"failure_score": 90, "print_quality": 2.5, "kind": "blob", "reason": "x"},
        {"failure_score": 90, "print_quality": 2, "kind": "explosion", "reason": "x"},
        # hostile: nested 200,000 deep, NaN, an integer too large for a float
        pytest.param("[" * 200_000 + "]" * 200_000, id="deep"),
        pytest.param(
            '{"failure_score": NaN, "print_quality": 2, "kind": "blob", "reason": "x"}',
            id="nan",
        ),
        pytest.param(
            {
                "failure_score": 10**400,
                "print_quality": 2,
                "kind": "blob",
                "reason": "x",
            },
            id="huge_int",
        ),
        pytest.param("   ", id="blank"),
    ],
)
async def test_bad_data_is_a_bad_response(
    detector: AITaskDetector, judge: RecordingAITask, answer: Any
) -> None:
    judge.answer = lambda _: answer

    with pytest.raises(DetectorBadResponse):
        await detector.async_analyze([])


async def test_agent_errors_are_unavailable(
    detector: AITaskDetector, judge: RecordingAITask
) -> None:
    judge.error = HomeAssistantError("Error talking to the provider")

    with pytest.raises(DetectorUnavailable, match="Error talking to the provider"):
        await detector.async_analyze([])


async def test_a_provider_that_never_answers_times_out(
    hass: HomeAssistant, setup_entities: None, judge: RecordingAITask
) -> None:
    """A hung AI Task is an outage the monitor retries, not a check that never ends."""
    detector = AITaskDetector(hass, AI_ENTITY, CAMERA, timeout=0.2)
    judge.hang = asyncio.Event()

    with pytest.raises(DetectorUnavailable, match=r"no answer within 0\.2 s"):
        await detector.async_analyze([])

    judge.hang.set()
    judge.hang = None
    verdict = await detector.async_analyze([])
    assert verdict.failure_score == 0


async def test_camera_without_image_is_unavailable(
    detector: AITaskDetector, judge: RecordingAITask, fake_camera: FakeCamera
) -> None:
    fake_camera.image = None

    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([])

    assert judge.tasks == []


@pytest.mark.parametrize(
    ("entity_id", "camera_entity_id"),
    [
        ("ai_task.missing", CAMERA),
        (PLAIN_AI_ENTITY, CAMERA),
        (AI_ENTITY, "camera.missing"),
    ],
)
async def test_misconfiguration_is_unavailable(
    hass: HomeAssistant,
    setup_entities: None,
    text_only: RecordingAITask,
    entity_id: str,
    camera_entity_id: str,
) -> None:
    detector = AITaskDetector(hass, entity_id, camera_entity_id)

    with pytest.raises(DetectorUnavailable):
        await detector.async_analyze([])

    assert text_only.tasks == []


async def test_ai_task_not_set_up_is_unavailable(hass: HomeAssistant) -> None:
    detector = AITaskDetector(hass, AI_ENTITY, CAMERA)

    with pytest.raises(DetectorUnavailable, match="not set up"):
        await detector.async_analyze([])


def test_structure_becomes_a_strict_schema_for_llm_providers() -> None:
    """Providers turn the structure into JSON schema with HA's selector serializer."""
    schema = probatio.to_openapi(
        verdict_structure(),
        custom_serializer=llm.selector_serializer,
        openapi_version="3.1.0",
    )

    assert schema["type"] == "object"
    assert (
        set(schema["required"])
        == set(schema["properties"])
        == {
            "failure_score",
            "print_quality",
            "kind",
            "reason",
        }
    )
    assert schema["additionalProperties"] is False
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    assert schema["properties"]["failure_score"]["maximum"] == 100
    assert camera_attachment("camera.x") == {
        "media_content_id": "media-source://camera/camera.x",
        "media_content_type": "image/jpeg",
    }
