"""The detector registry: one `DetectorType` per failure detector.

A detector's module (`detectors/<name>.py`) talks to its service and needs no Home
Assistant; its `DetectorType` here says what Print Sentinel needs to offer, check
and build it. Everything else reads the registry:

- the options flow: the detector select of the `detection` step, the
  `detector_<key>` step with the type's schema, defaults and description
  placeholders (the flow makes one `async_step_detector_<key>` per type);
- `detection/setup.py`: `build_detector`, the form checks (`required`, the format
  of `secret_keys`, `form_errors`) and the key check (`check` or the detector's
  `async_validate`);
- diagnostics' redaction (`secret_option_keys`);
- the `vision_check` service's validation of its `detector` field.

A new detector `foo` touches:

1. `detection/detectors/foo.py`: the detector (the `Detector` protocol of
   `verdict.py`), returning `Verdict`s and raising `DetectorError`s.
2. This module: its options step's schema, its `build` and its `DetectorType`
   entry in `BUILTIN_TYPES` (option keys may be constants here or in `const.py`;
   nothing else in `const.py` changes).
3. `strings.json`, then `cp strings.json translations/en.json`:
   `options.step.detector_foo` (title, description, a label and a description for
   each field), `selector.detector.options.foo`, and any new error key.
4. `services.yaml`: `foo` among vision_check's `detector` options (static YAML: a
   test checks it lists the registry's detectors).
5. Its simulator under `simulators/` and its tests.

Only if it wants frames other than 768 px on the long side: its size in
`const.DETECTOR_LONG_SIDE`. A detector that needs the camera's entity id when it is
built (AI Task) is built again once the camera is known, in `__init__.py`, which
still names AI Task.

`register` adds a type at run time (the tests' dummy detector does), `unregister`
removes it; types registered after `diagnostics.py` was imported are not redacted
by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import re
from types import MappingProxyType
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import get_async_client
import probatio as vol

from ..const import (
    CONF_AI_TASK_ENTITY,
    CONF_GADGET_API_KEY,
    CONF_GADGET_PAUSE_LEVEL,
    CONF_GADGET_URL,
    CONF_GADGET_WARNING_LEVEL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_DETAIL,
    CONF_OPENAI_MODEL,
    CONF_PRINTWATCH_API_KEY,
    CONF_PRINTWATCH_URL,
    DEFAULT_GADGET_LEVEL,
    DEFAULT_GADGET_URL,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_DETAIL,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_PRINTWATCH_URL,
    DETECTOR_AI_TASK,
    DETECTOR_GADGET,
    DETECTOR_NONE,
    DETECTOR_OPENAI,
    DETECTOR_PRINTWATCH,
    DOMAIN,
)
from ..printers.base import PrinterSnapshot
from .detectors.gadget import GadgetDetector
from .detectors.openai_compat import OpenAIDetector, valid_base_url
from .detectors.printwatch import PrintWatchDetector
from .verdict import Detector, DetectorError

type BuildDetector = Callable[
    [HomeAssistant, ConfigEntry, Mapping[str, Any], str], Detector
]
"""(hass, entry, options, camera_entity_id) -> the detector."""

_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")
"""A type's key is a step id (`detector_<key>`) and a translation key."""


@dataclass(frozen=True, kw_only=True)
class DetectorType:
    """What Print Sentinel needs to offer, check and build one detector."""

    key: str
    """Stable id: the `detector` option's value, the `detector_<key>` options step,
    `selector.detector.options.<key>` in strings.json."""
    options_schema: Callable[[], vol.Schema]
    """The fields of the `detector_<key>` options step."""
    build: BuildDetector
    """Make the detector. It gets the options with `defaults` filled in, `required`
    present and `form_errors` clean; it is never given a camera in an options check."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Option -> value used where the option is unset or empty."""
    required: tuple[str, ...] = ()
    """Options without which the detector is not configured (e.g. its API key)."""
    secret_keys: tuple[str, ...] = ()
    """API keys and tokens: redacted in diagnostics, and must be one line of printable
    ASCII without spaces (they go in a header). The options form never shows them
    (its fields come back empty); left empty, the saved one is kept."""
    secret_endpoint: tuple[str, ...] = ()
    """Options saying where the secret keys are sent (a base URL): a saved key is
    kept only while these stay the same, so a key is never sent to a new server
    the user did not type it for."""
    form_errors: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
    """Field -> error key for what the user typed, checked before any call."""
    check: Callable[[HomeAssistant, Mapping[str, Any]], str | None] | None = None
    """The options flow's check (error key or None), instead of building the detector
    and awaiting its `async_validate` (when it has one)."""
    description_placeholders: Mapping[str, str] = field(default_factory=dict)
    """What the step's description shows: hassfest allows no URL in strings.json."""
    needs_camera: bool = False
    """Built again once the printer's camera entity is known (the setup creates the
    monitor before the platforms; AI Task is handed the camera entity itself)."""

    def kept_secrets(
        self, saved: Mapping[str, Any], typed: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The saved secret keys that stand for the fields left empty in `typed`.

        `typed` is the options with what the user just typed on top.
        """
        before, after = self.resolve(saved), self.resolve(typed)
        if any(before.get(k) != after.get(k) for k in self.secret_endpoint):
            return {}
        return {
            k: saved[k] for k in self.secret_keys if saved.get(k) and not typed.get(k)
        }

    def resolve(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """`options` with `defaults` where an option is unset, None or empty."""
        return {
            **self.defaults,
            **{k: v for k, v in options.items() if v is not None and v != ""},
        }


_TYPES: dict[str, DetectorType] = {}


def register(detector_type: DetectorType) -> Callable[[], None]:
    """Add a detector type (after those there are); return what removes it again."""
    key = detector_type.key
    if not _KEY.fullmatch(key) or key == DETECTOR_NONE:
        raise ValueError(f"not a detector key: {key!r}")
    if key in _TYPES:
        raise ValueError(f"detector {key!r} is already registered")
    _TYPES[key] = detector_type
    return lambda: unregister(key)


def unregister(key: str) -> None:
    """Remove a detector type (a test's); unknown keys are ignored."""
    _TYPES.pop(key, None)


def get_detector_type(key: str | None) -> DetectorType | None:
    """The registered type `key` names, or None (also for `none`)."""
    return _TYPES.get(key) if isinstance(key, str) else None


def detector_types() -> tuple[DetectorType, ...]:
    """The registered types, in the order the detector select shows them."""
    return tuple(_TYPES.values())


def detector_keys() -> tuple[str, ...]:
    """The registered types' keys (without `none`)."""
    return tuple(_TYPES)


def secret_option_keys() -> frozenset[str]:
    """Every registered type's secret options."""
    return frozenset(k for t in _TYPES.values() for k in t.secret_keys)


# --- fields the detector steps share ------------------------------------------------

PASSWORD: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
URL: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
)


def dropdown(options: tuple[str, ...] | list[str], key: str) -> selector.SelectSelector:
    """A select whose options are translated under `selector.<key>.options`."""
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=list(options),
            translation_key=key,
            mode=selector.SelectSelectorMode.DROPDOWN,
        )
    )


# --- the built-in detectors ---------------------------------------------------------


def _openai_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_OPENAI_API_KEY): PASSWORD,
            vol.Required(CONF_OPENAI_BASE_URL, default=DEFAULT_OPENAI_BASE_URL): URL,
            vol.Required(CONF_OPENAI_MODEL, default=DEFAULT_OPENAI_MODEL): str,
            vol.Required(CONF_OPENAI_DETAIL, default=DEFAULT_OPENAI_DETAIL): dropdown(
                ("low", "high", "auto"), CONF_OPENAI_DETAIL
            ),
        }
    )


MAX_MODEL_NAME: Final = 256
"""Longer is no model name (ft:gpt-4.1-mini:org::id and hf.co/user/repo:Q4 fit)."""


def _model_name(options: Mapping[str, Any]) -> str:
    """The model as typed, without the spaces a paste brings; empty: the default."""
    return str(options.get(CONF_OPENAI_MODEL) or "").strip() or DEFAULT_OPENAI_MODEL


def _openai_form_errors(options: Mapping[str, Any]) -> dict[str, str]:
    """Field errors of what the SDK would refuse or the service misread.

    A base URL that is not an http(s) URL would fail inside the SDK; a model name
    is one word (gpt-4.1-mini, llava:13b), never spaces or control codes.
    """
    url = options.get(CONF_OPENAI_BASE_URL)
    if not isinstance(url, str) or not valid_base_url(url):
        return {CONF_OPENAI_BASE_URL: "invalid_base_url"}
    model = _model_name(options)
    if (
        len(model) > MAX_MODEL_NAME
        or any(char.isspace() for char in model)
        or not model.isprintable()
    ):
        return {CONF_OPENAI_MODEL: "invalid_model"}
    return {}


def _build_openai(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any], camera: str
) -> Detector:
    detector = OpenAIDetector(
        get_async_client(hass),
        options.get(CONF_OPENAI_API_KEY) or "",  # none for a local server (Ollama)
        options[CONF_OPENAI_BASE_URL],
        model=_model_name(options),
        detail=options[CONF_OPENAI_DETAIL],
    )
    # the SDK's first use blocks (imports, platform headers): do it now, in the
    # executor, rather than on the event loop at the first check
    hass.async_create_background_task(
        _async_prepare_quietly(detector), f"{DOMAIN} prepare the OpenAI SDK"
    )
    return detector


async def _async_prepare_quietly(detector: OpenAIDetector) -> None:
    """Prepare the SDK ahead of the first check, which reports what fails here."""
    with contextlib.suppress(DetectorError):
        await detector.async_prepare()


def _ai_task_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_AI_TASK_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="ai_task")
            ),
        }
    )


def _ai_task_check(hass: HomeAssistant, options: Mapping[str, Any]) -> str | None:
    """An AI Task call costs money: only check that the entity exists."""
    entity_id = options.get(CONF_AI_TASK_ENTITY)
    return None if entity_id and hass.states.get(entity_id) else "entity_not_found"


def _build_ai_task(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any], camera: str
) -> Detector:
    # imported when one is configured: HA's ai_task pulls in conversation, pydantic
    # and more, which the other detectors never need
    from .detectors.ai_task import AITaskDetector

    return AITaskDetector(hass, options[CONF_AI_TASK_ENTITY], camera)


_GADGET_LEVEL: Final = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=1, max=5, step=1, mode=selector.NumberSelectorMode.SLIDER
    )
)
"""A slider with its value beside it (a bare vol.Range draws one without)."""


def _gadget_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_GADGET_API_KEY): PASSWORD,
            vol.Required(
                CONF_GADGET_WARNING_LEVEL, default=DEFAULT_GADGET_LEVEL
            ): _GADGET_LEVEL,
            vol.Required(
                CONF_GADGET_PAUSE_LEVEL, default=DEFAULT_GADGET_LEVEL
            ): _GADGET_LEVEL,
        }
    )


def _build_gadget(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any], camera: str
) -> Detector:
    return GadgetDetector(
        async_get_clientsession(hass),
        options[CONF_GADGET_API_KEY],
        options[CONF_GADGET_URL],
        warning_level=int(options[CONF_GADGET_WARNING_LEVEL]),
        pause_level=int(options[CONF_GADGET_PAUSE_LEVEL]),
        clock=hass.loop.time,
    )


def _printwatch_schema() -> vol.Schema:
    return vol.Schema({vol.Optional(CONF_PRINTWATCH_API_KEY): PASSWORD})


def _printer_snapshot(entry: ConfigEntry) -> PrinterSnapshot | None:
    """The printer's latest poll, once the entry runs (not in an options check)."""
    runtime = getattr(entry, "runtime_data", None)
    coordinator = getattr(runtime, "coordinator", None)
    data = getattr(coordinator, "data", None)
    return data if isinstance(data, PrinterSnapshot) else None


def _build_printwatch(
    hass: HomeAssistant, entry: ConfigEntry, options: Mapping[str, Any], camera: str
) -> Detector:
    return PrintWatchDetector(
        async_get_clientsession(hass),
        options[CONF_PRINTWATCH_API_KEY],
        options[CONF_PRINTWATCH_URL],
        printer_id=f"print_sentinel_{entry.entry_id}",
        printer_info=lambda: _printer_snapshot(entry),
        clock=hass.loop.time,
    )


BUILTIN_TYPES: Final = (
    DetectorType(
        key=DETECTOR_OPENAI,
        options_schema=_openai_schema,
        build=_build_openai,
        defaults=MappingProxyType(
            {
                CONF_OPENAI_BASE_URL: DEFAULT_OPENAI_BASE_URL,
                CONF_OPENAI_MODEL: DEFAULT_OPENAI_MODEL,
                CONF_OPENAI_DETAIL: DEFAULT_OPENAI_DETAIL,
            }
        ),
        secret_keys=(CONF_OPENAI_API_KEY,),
        secret_endpoint=(CONF_OPENAI_BASE_URL,),
        form_errors=_openai_form_errors,
        description_placeholders=MappingProxyType(
            {
                "openai_url": DEFAULT_OPENAI_BASE_URL,
                "ollama_url": "http://HOST:11434/v1",
                "openai_keys_url": "https://platform.openai.com/api-keys",
            }
        ),
    ),
    DetectorType(
        key=DETECTOR_AI_TASK,
        needs_camera=True,
        options_schema=_ai_task_schema,
        build=_build_ai_task,
        required=(CONF_AI_TASK_ENTITY,),
        check=_ai_task_check,
    ),
    DetectorType(
        key=DETECTOR_GADGET,
        options_schema=_gadget_schema,
        build=_build_gadget,
        defaults=MappingProxyType(
            {
                CONF_GADGET_URL: DEFAULT_GADGET_URL,
                CONF_GADGET_WARNING_LEVEL: DEFAULT_GADGET_LEVEL,
                CONF_GADGET_PAUSE_LEVEL: DEFAULT_GADGET_LEVEL,
            }
        ),
        required=(CONF_GADGET_API_KEY,),
        secret_keys=(CONF_GADGET_API_KEY,),
        description_placeholders=MappingProxyType(
            {"gadget_url": "https://octoeverywhere.com"}
        ),
    ),
    DetectorType(
        key=DETECTOR_PRINTWATCH,
        options_schema=_printwatch_schema,
        build=_build_printwatch,
        defaults=MappingProxyType({CONF_PRINTWATCH_URL: DEFAULT_PRINTWATCH_URL}),
        required=(CONF_PRINTWATCH_API_KEY,),
        secret_keys=(CONF_PRINTWATCH_API_KEY,),
        description_placeholders=MappingProxyType(
            {"printwatch_url": "https://printpal.io"}
        ),
    ),
)
"""The detectors Print Sentinel ships, in the select's order."""

for _type in BUILTIN_TYPES:
    register(_type)
