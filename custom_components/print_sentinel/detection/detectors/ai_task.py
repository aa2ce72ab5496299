"""Failure detection through Home Assistant's AI Task (any configured AI provider).

`ai_task.async_generate_data` is given the shared instructions, a `structure` with
the verdict's four fields (built from HA selectors, exactly like the
`ai_task.generate_data` action builds one, so every provider can turn it into its
own structured-output format) and the printer camera as an attachment
(`media-source://camera/<entity_id>`): the AI Task integration takes the snapshot
itself, so one call judges one fresh frame. The returned data is validated with
the same strict rules as the OpenAI detector's answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import logging
import time
from typing import Any, Final

from homeassistant.components import ai_task
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector
import probatio

from ..prompt import (
    KINDS,
    QUALITY_MAX,
    QUALITY_MIN,
    SCORE_MAX,
    SCORE_MIN,
    TASK_NAME,
    Answer,
    instructions_for,
    parse_answer,
)
from ..verdict import DetectorBadResponse, DetectorUnavailable, Frame, Usage, Verdict
from .bounded import MAX_ANSWER_BYTES, NotJSON, loads

_LOGGER = logging.getLogger(__name__)

NAME: Final = "ai_task"
CAMERA_MEDIA_PREFIX: Final = "media-source://camera/"
DEFAULT_TIMEOUT: Final = 60.0
"""Seconds an AI Task may take: a hung provider must not stop detection for good."""


def verdict_structure() -> probatio.Schema:
    """Return the AI Task `structure` of a verdict (all fields required)."""
    return probatio.Schema(
        {
            probatio.Required(
                "failure_score", description="0 fine to 100 certainly failed"
            ): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=SCORE_MIN, max=SCORE_MAX, mode=selector.NumberSelectorMode.BOX
                )
            ),
            probatio.Required(
                "print_quality", description="1 ruined to 10 perfect, an integer"
            ): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=QUALITY_MIN,
                    max=QUALITY_MAX,
                    step=1,
                    mode=selector.NumberSelectorMode.BOX,
                )
            ),
            probatio.Required(
                "kind", description='the failure seen, "none" if the print is fine'
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(options=list(KINDS))
            ),
            probatio.Required(
                "reason", description="at most 12 words"
            ): selector.TextSelector(),
        },
        extra=probatio.PREVENT_EXTRA,
    )


def camera_attachment(camera_entity_id: str) -> dict[str, str]:
    """Return the AI Task attachment that snapshots `camera_entity_id`."""
    return {
        "media_content_id": f"{CAMERA_MEDIA_PREFIX}{camera_entity_id}",
        "media_content_type": "image/jpeg",
    }


def _read_data(data: Any) -> Answer:
    """Validate what the AI Task returned (a dict, or JSON text from some agents).

    Text is parsed as bounded, strict JSON; any other trouble (an integer too
    large for a float, a structure nested too deeply) is a DetectorBadResponse.
    """
    if isinstance(data, str):
        if not data.strip():
            raise DetectorBadResponse("answer is empty")
        if len(data) > MAX_ANSWER_BYTES:
            raise DetectorBadResponse("answer is too long")
        try:
            data = loads(data)
        except NotJSON:
            raise DetectorBadResponse("answer is not JSON") from None
    try:
        return parse_answer(data)
    except (OverflowError, RecursionError, TypeError, ValueError) as err:
        raise DetectorBadResponse(
            f"answer is not a verdict ({type(err).__name__})"
        ) from None


class AITaskDetector:
    """A Detector that asks a Home Assistant AI Task entity to judge the camera."""

    name = NAME
    max_frames = 1
    """The AI Task takes its own snapshot: one fresh frame per call."""

    def __init__(
        self,
        hass: HomeAssistant,
        entity_id: str,
        camera_entity_id: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Use the AI Task `entity_id` and the printer's `camera_entity_id`."""
        self._hass = hass
        self._timeout = timeout
        self._entity_id = entity_id
        self._camera_entity_id = camera_entity_id
        self._structure = verdict_structure()

    @property
    def entity_id(self) -> str:
        """The AI Task entity asked."""
        return self._entity_id

    @property
    def camera_entity_id(self) -> str:
        """The camera the AI Task snapshots."""
        return self._camera_entity_id

    async def async_analyze(self, frames: Sequence[Frame]) -> Verdict:
        """Judge a fresh snapshot of the camera.

        `frames` is not sent: AI Task attachments are resolved by Home Assistant,
        which snapshots the camera entity itself.
        """
        if ai_task.DOMAIN not in self._hass.config.components:
            raise DetectorUnavailable("the AI Task integration is not set up")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                result = await ai_task.async_generate_data(
                    self._hass,
                    task_name=TASK_NAME,
                    entity_id=self._entity_id,
                    instructions=instructions_for(1),
                    structure=self._structure,
                    attachments=[camera_attachment(self._camera_entity_id)],
                )
        except TimeoutError as err:
            raise DetectorUnavailable(
                f"AI Task {self._entity_id} gave no answer within {self._timeout:g} s"
            ) from err
        except HomeAssistantError as err:
            _LOGGER.debug("AI Task %s failed: %s", self._entity_id, err)
            raise DetectorUnavailable(
                f"AI Task {self._entity_id} failed: {err}"
            ) from err
        latency_ms = (time.perf_counter() - started) * 1000
        answer = _read_data(getattr(result, "data", None))
        _LOGGER.debug(
            "AI Task %s judged %s: score %.0f, kind %s",
            self._entity_id,
            self._camera_entity_id,
            answer.failure_score,
            answer.kind,
        )
        return Verdict(
            failure_score=answer.failure_score,
            print_quality=answer.print_quality,
            warning=answer.warning,
            pause=answer.pause,
            kind=answer.kind,
            reason=answer.reason,
            detector=self.name,
            latency_ms=latency_ms,
            usage=Usage(calls=1),
        )

    async def async_start_print(self, print_id: str) -> None:
        """Nothing to reset: every AI Task call is a fresh chat session."""
