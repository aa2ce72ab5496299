"""Options flow: polling, camera, failure detection and Prusa Connect upload."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.helpers import selector
import probatio as vol

from .const import (
    ACTION_CANCEL,
    ACTION_NONE,
    ACTION_NOTIFY,
    ACTION_PAUSE,
    CONF_AI_TASK_ENTITY,
    CONF_CHECK_INTERVAL,
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_INTERVAL,
    CONF_CONNECT_ONLY_PRINTING,
    CONF_CONNECT_TOKEN,
    CONF_DETECTION_CAMERA,
    CONF_DETECTOR,
    CONF_FAILURE_ACTION,
    CONF_FRAME_COUNT,
    CONF_GADGET_API_KEY,
    CONF_GADGET_PAUSE_LEVEL,
    CONF_GADGET_WARNING_LEVEL,
    CONF_IDLE_INTERVAL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_DETAIL,
    CONF_OPENAI_MODEL,
    CONF_POLICY,
    CONF_PRINTING_INTERVAL,
    CONF_PRINTWATCH_API_KEY,
    CONF_RESUME_GRACE,
    CONF_SENSITIVITY,
    CONF_SNAPSHOT_URL,
    CONF_WARNING_ACTION,
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_CONNECT_INTERVAL,
    DEFAULT_FAILURE_ACTION,
    DEFAULT_FRAME_COUNT,
    DEFAULT_GADGET_LEVEL,
    DEFAULT_IDLE_INTERVAL,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_DETAIL,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_POLICY,
    DEFAULT_PRINTING_INTERVAL,
    DEFAULT_RESUME_GRACE,
    DEFAULT_SENSITIVITY,
    DEFAULT_WARNING_ACTION,
    DETECTOR_AI_TASK,
    DETECTOR_GADGET,
    DETECTOR_NONE,
    DETECTOR_OPENAI,
    DETECTOR_PRINTWATCH,
    DETECTORS,
    MIN_CONNECT_INTERVAL,
)
from .detection.policy import POLICIES
from .detection.setup import async_validate_detector, detector_form_errors
from .prusa_connect import generate_fingerprint
from .records.options import RECORDS_SCHEMA

SENSITIVITIES = ("low", "medium", "high")

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)


def _select(options: tuple[str, ...] | list[str], key: str) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=list(options),
            translation_key=key,
            mode=selector.SelectSelectorMode.DROPDOWN,
        )
    )


def _seconds(minimum: int, maximum: int) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
            unit_of_measurement="s",
        )
    )


POLLING_SCHEMA = vol.Schema(
    {
        vol.Required(
            CONF_PRINTING_INTERVAL, default=DEFAULT_PRINTING_INTERVAL
        ): _seconds(2, 120),
        vol.Required(CONF_IDLE_INTERVAL, default=DEFAULT_IDLE_INTERVAL): _seconds(
            5, 600
        ),
        vol.Optional(CONF_SNAPSHOT_URL): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
        ),
    }
)

DETECTION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_DETECTOR, default=DETECTOR_NONE): _select(
            DETECTORS, CONF_DETECTOR
        ),
        vol.Optional(CONF_DETECTION_CAMERA): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="camera")
        ),
        vol.Required(CONF_CHECK_INTERVAL, default=DEFAULT_CHECK_INTERVAL): _seconds(
            10, 3600
        ),
        vol.Required(
            CONF_FRAME_COUNT, default=DEFAULT_FRAME_COUNT
        ): selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=1, max=6, step=1, mode=selector.NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_SENSITIVITY, default=DEFAULT_SENSITIVITY): _select(
            SENSITIVITIES, CONF_SENSITIVITY
        ),
        vol.Required(CONF_POLICY, default=DEFAULT_POLICY): _select(
            POLICIES, CONF_POLICY
        ),
        vol.Required(CONF_FAILURE_ACTION, default=DEFAULT_FAILURE_ACTION): _select(
            (ACTION_NOTIFY, ACTION_PAUSE, ACTION_CANCEL), CONF_FAILURE_ACTION
        ),
        vol.Required(CONF_WARNING_ACTION, default=DEFAULT_WARNING_ACTION): _select(
            (ACTION_NONE, ACTION_NOTIFY), CONF_WARNING_ACTION
        ),
        vol.Required(CONF_RESUME_GRACE, default=DEFAULT_RESUME_GRACE): _seconds(
            0, 3600
        ),
    }
)

DETECTOR_SCHEMAS: dict[str, vol.Schema] = {
    DETECTOR_OPENAI: vol.Schema(
        {
            vol.Optional(CONF_OPENAI_API_KEY): _PASSWORD,
            vol.Required(
                CONF_OPENAI_BASE_URL, default=DEFAULT_OPENAI_BASE_URL
            ): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
            vol.Required(CONF_OPENAI_MODEL, default=DEFAULT_OPENAI_MODEL): str,
            vol.Required(CONF_OPENAI_DETAIL, default=DEFAULT_OPENAI_DETAIL): _select(
                ("low", "high", "auto"), CONF_OPENAI_DETAIL
            ),
        }
    ),
    DETECTOR_AI_TASK: vol.Schema(
        {
            vol.Required(CONF_AI_TASK_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="ai_task")
            ),
        }
    ),
    DETECTOR_GADGET: vol.Schema(
        {
            vol.Required(CONF_GADGET_API_KEY): _PASSWORD,
            vol.Required(
                CONF_GADGET_WARNING_LEVEL, default=DEFAULT_GADGET_LEVEL
            ): vol.All(vol.Coerce(int), vol.Range(min=1, max=5)),
            vol.Required(
                CONF_GADGET_PAUSE_LEVEL, default=DEFAULT_GADGET_LEVEL
            ): vol.All(vol.Coerce(int), vol.Range(min=1, max=5)),
        }
    ),
    DETECTOR_PRINTWATCH: vol.Schema({vol.Required(CONF_PRINTWATCH_API_KEY): _PASSWORD}),
}

CONNECT_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CONNECT_ENABLED, default=False): bool,
        vol.Optional(CONF_CONNECT_TOKEN): _PASSWORD,
        vol.Optional(CONF_CONNECT_CAMERA): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="camera")
        ),
        vol.Required(CONF_CONNECT_INTERVAL, default=DEFAULT_CONNECT_INTERVAL): _seconds(
            MIN_CONNECT_INTERVAL, 3600
        ),
        vol.Required(CONF_CONNECT_ONLY_PRINTING, default=True): bool,
    }
)

_INTEGER_KEYS = (
    CONF_PRINTING_INTERVAL,
    CONF_IDLE_INTERVAL,
    CONF_CHECK_INTERVAL,
    CONF_FRAME_COUNT,
    CONF_RESUME_GRACE,
    CONF_CONNECT_INTERVAL,
)


def _clean(user_input: dict[str, Any]) -> dict[str, Any]:
    """Number selectors return floats; keep whole seconds as int."""
    return {
        key: int(value) if key in _INTEGER_KEYS and value is not None else value
        for key, value in user_input.items()
    }


class PrintSentinelOptionsFlow(OptionsFlowWithReload):
    """Change how a printer is watched. Saving reloads the entry."""

    def __init__(self) -> None:
        """Initialise the flow."""
        self._pending: dict[str, Any] = {}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the sections."""
        return self.async_show_menu(
            step_id="init",
            menu_options=["polling", "detection", "connect", "records"],
        )

    def _save(
        self, updates: dict[str, Any], remove: tuple[str, ...] = ()
    ) -> ConfigFlowResult:
        options = {**self.config_entry.options, **updates}
        for key in remove:
            options.pop(key, None)
        return self.async_create_entry(data=options)

    async def async_step_polling(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Polling intervals and the camera's snapshot URL."""
        if user_input is not None:
            user_input = _clean(user_input)
            remove = () if user_input.get(CONF_SNAPSHOT_URL) else (CONF_SNAPSHOT_URL,)
            return self._save(user_input, remove)
        return self.async_show_form(
            step_id="polling",
            data_schema=self.add_suggested_values_to_schema(
                POLLING_SCHEMA, self.config_entry.options
            ),
        )

    async def async_step_detection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which detector watches the camera, how often, and what to do."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            detector = user_input[CONF_DETECTOR]
            camera = user_input.get(CONF_DETECTION_CAMERA)
            if camera and self.hass.states.get(camera) is None:
                errors[CONF_DETECTION_CAMERA] = "camera_not_found"
            elif detector == DETECTOR_NONE:
                return self._save(
                    user_input, () if camera else (CONF_DETECTION_CAMERA,)
                )
            else:
                self._pending = user_input
                steps = {
                    DETECTOR_OPENAI: self.async_step_detector_openai,
                    DETECTOR_AI_TASK: self.async_step_detector_ai_task,
                    DETECTOR_GADGET: self.async_step_detector_gadget,
                    DETECTOR_PRINTWATCH: self.async_step_detector_printwatch,
                }
                return await steps[detector]()
        return self.async_show_form(
            step_id="detection",
            data_schema=self.add_suggested_values_to_schema(
                DETECTION_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def _detector_step(
        self, detector: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            merged = {**self.config_entry.options, **self._pending, **user_input}
            errors = detector_form_errors(merged)
            if not errors:
                error = await async_validate_detector(
                    self.hass, self.config_entry, merged
                )
                if error is None:
                    return self._save({**self._pending, **user_input})
                errors["base"] = error
        return self.async_show_form(
            step_id=f"detector_{detector}",
            data_schema=self.add_suggested_values_to_schema(
                DETECTOR_SCHEMAS[detector], user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_detector_openai(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """OpenAI or any OpenAI-compatible server (Ollama, LM Studio, OpenRouter)."""
        return await self._detector_step(DETECTOR_OPENAI, user_input)

    async def async_step_detector_ai_task(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One of Home Assistant's AI Task entities."""
        return await self._detector_step(DETECTOR_AI_TASK, user_input)

    async def async_step_detector_gadget(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """OctoEverywhere's Gadget API."""
        return await self._detector_step(DETECTOR_GADGET, user_input)

    async def async_step_detector_printwatch(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The PrintWatch API."""
        return await self._detector_step(DETECTOR_PRINTWATCH, user_input)

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Upload snapshots of a camera to Prusa Connect."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _clean(user_input)
            if user_input[CONF_CONNECT_ENABLED]:
                if not user_input.get(CONF_CONNECT_TOKEN):
                    errors[CONF_CONNECT_TOKEN] = "token_required"
                if not user_input.get(CONF_CONNECT_CAMERA):
                    errors[CONF_CONNECT_CAMERA] = "camera_required"
            if not errors:
                if not self.config_entry.options.get(CONF_CONNECT_FINGERPRINT):
                    user_input[CONF_CONNECT_FINGERPRINT] = generate_fingerprint()
                return self._save(user_input)
        return self.async_show_form(
            step_id="connect",
            data_schema=self.add_suggested_values_to_schema(
                CONNECT_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )

    async def async_step_records(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Print records: the timelapse and how much of the disk records may take."""
        if user_input is not None:
            return self._save(
                {
                    k: int(v) if isinstance(v, float) else v
                    for k, v in user_input.items()
                }
            )
        return self.async_show_form(
            step_id="records",
            data_schema=self.add_suggested_values_to_schema(
                RECORDS_SCHEMA, self.config_entry.options
            ),
        )
