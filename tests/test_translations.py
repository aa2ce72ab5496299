"""strings.json follows hassfest's translation rules, and the code uses only its keys.

hassfest lives in Home Assistant core's repository, not on PyPI, so these tests apply
its rules (`script/hassfest/translations.py`) with Home Assistant's own validators
from the installed package: no HTML (`cv.string_with_no_html`), no URLs, no leading
or trailing spaces, no placeholders in single quotes, placeholders that are
identifiers, `data_description` keys that name a field in `data`. On top of that:
every form field has a `data_description`, every error, abort and `translation_key`
the code uses exists, every `{placeholder}` is supplied where the code shows the
string, `translations/en.json` equals `strings.json`, and the frontend's ICU message
parser would accept every string (no `<tag`, balanced braces).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.helpers import config_validation as cv, selector
import probatio as vol
import pytest

from custom_components.print_sentinel import options_flow, repetier_flow
from custom_components.print_sentinel.prusalink_flow import _prusalink_schema

PACKAGE = Path(__file__).parent.parent / "custom_components" / "print_sentinel"
STRINGS_PATH = PACKAGE / "strings.json"
STRINGS: dict[str, Any] = json.loads(STRINGS_PATH.read_text(encoding="utf-8"))

# hassfest's patterns (script/hassfest/translations.py)
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
# what else the frontend's ICU parser chokes on ("Translation error: UNCLOSED_TAG")
RE_TAG = re.compile(r"</?[a-zA-Z]")
RE_ANY_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _validate_value(value: Any, allow_placeholders: bool = True) -> str:
    """hassfest's `validate_translation_value`, with HA's validators."""
    text = cv.string_with_no_html(value)
    if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
        raise vol.Invalid(
            "the string should not contain placeholders inside single quotes"
        )
    for _, field_name, _, _ in string.Formatter().parse(text):
        if field_name:
            if not allow_placeholders:
                raise vol.Invalid("placeholders are not supported in this value")
            if not field_name.isidentifier():
                raise vol.Invalid("placeholders must be valid identifiers")
    if RE_COMBINED_REFERENCE.search(text):
        raise vol.Invalid("the string should not contain combined translations")
    if text != text.strip():
        raise vol.Invalid("the string should not contain leading or trailing spaces")
    if RE_URL.search(text) or RE_ANY_URL.search(text):
        raise vol.Invalid(
            "the string should not contain URLs, "
            "please use description placeholders instead"
        )
    return text


def _no_placeholders(value: Any) -> str:
    return _validate_value(value, allow_placeholders=False)


def _translation_key(value: str) -> str:
    if RE_TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def _data_entry_schema() -> vol.All:
    value = _validate_value
    schema = vol.Schema(
        {
            vol.Optional("flow_title"): value,
            vol.Required("step"): {
                str: {
                    vol.Optional("title"): value,
                    vol.Optional("description"): value,
                    vol.Optional("data"): {str: value},
                    vol.Optional("data_description"): {str: value},
                    vol.Optional("menu_options"): {str: value},
                    vol.Optional("menu_option_descriptions"): {str: value},
                    vol.Optional("submit"): value,
                }
            },
            vol.Optional("error"): {str: value},
            vol.Optional("abort"): {str: value},
            vol.Optional("progress"): {str: value},
            vol.Optional("create_entry"): {str: value},
        }
    )

    def data_description_in_data(flow: dict[str, Any]) -> dict[str, Any]:
        for step_id, step in flow["step"].items():
            for key in step.get("data_description", {}):
                if key not in step.get("data", {}):
                    raise vol.Invalid(
                        f"{step_id}: data_description key {key} is not in data"
                    )
        return flow

    return vol.All(schema, data_description_in_data)


def _strings_schema() -> vol.Schema:
    """hassfest's `gen_strings_schema`, for the sections we use."""
    value = _validate_value
    slug_keys = cv.schema_with_slug_keys
    entity_state = slug_keys(_no_placeholders, slug_validator=_translation_key)
    return vol.Schema(
        {
            vol.Optional("title"): value,
            vol.Optional("config"): _data_entry_schema(),
            vol.Optional("options"): _data_entry_schema(),
            vol.Optional("selector"): slug_keys(
                {
                    vol.Optional("options"): slug_keys(
                        value, slug_validator=_translation_key
                    ),
                },
                slug_validator=vol.Any("_", cv.slug),
            ),
            vol.Optional("device_automation"): {
                vol.Optional("action_type"): {str: value},
                vol.Optional("condition_type"): {str: value},
                vol.Optional("trigger_type"): {str: value},
                vol.Optional("trigger_subtype"): {str: value},
            },
            vol.Optional("issues"): {
                str: vol.Schema(
                    {vol.Required("title"): value, vol.Required("description"): value}
                )
            },
            vol.Optional("entity"): slug_keys(
                slug_keys(
                    {
                        vol.Optional("name"): value,
                        vol.Optional("state"): entity_state,
                        vol.Optional("state_attributes"): slug_keys(
                            {
                                vol.Optional("name"): _no_placeholders,
                                vol.Optional("state"): entity_state,
                            },
                            slug_validator=_translation_key,
                        ),
                        vol.Optional("unit_of_measurement"): _no_placeholders,
                    },
                    slug_validator=_translation_key,
                ),
                slug_validator=cv.slug,
            ),
            vol.Optional("exceptions"): slug_keys(
                {vol.Optional("message"): value}, slug_validator=cv.slug
            ),
            vol.Optional("services"): slug_keys(
                {
                    vol.Required("name"): value,
                    vol.Required("description"): value,
                    vol.Optional("fields"): slug_keys(
                        {
                            vol.Required("name"): str,
                            vol.Required("description"): value,
                            vol.Optional("example"): value,
                        },
                        slug_validator=_translation_key,
                    ),
                },
                slug_validator=_translation_key,
            ),
        }
    )


def _leaves(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    else:
        yield path, tree


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _step_placeholders(step: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for _, text in _leaves(step):
        found |= _placeholders(text)
    return found


# --- the code, read statically --------------------------------------------------

SOURCES = {
    path: ast.parse(path.read_text(encoding="utf-8"))
    for path in sorted(PACKAGE.rglob("*.py"))
}
CONFIG_FLOW_FILES = {
    "config_flow.py",
    "prusalink_flow.py",
    "repetier_flow.py",
    "ha_device_flow.py",
}
OPTIONS_FLOW_FILES = {"options_flow.py", "setup.py"}


def _calls(method: str) -> Iterator[tuple[Path, ast.Call]]:
    for path, tree in SOURCES.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and (
                    node.func.attr
                    if isinstance(node.func, ast.Attribute)
                    else node.func.id
                )
                == method
            ):
                yield path, node


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _dict_keys(node: ast.expr | None) -> set[str] | None:
    """The literal keys of a dict display; None when it is not one."""
    if node is None:
        return set()
    if not isinstance(node, ast.Dict):
        return None
    return {k.value for k in node.keys if isinstance(k, ast.Constant)}


def _error_keys(files: set[str]) -> set[str]:
    """Form error keys: `errors[...] = "x"`, `{"base": "x"}`, `return "x"` in setup."""
    found: set[str] = set()
    for path, tree in SOURCES.items():
        if path.name not in files:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id == "errors"
                for t in node.targets
            ):
                if isinstance(node.value, ast.Constant):
                    found.add(node.value.value)
            elif isinstance(node, ast.Dict) and len(node.keys) == 1:
                key, value = node.keys[0], node.values[0]
                if (
                    isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and (
                        (isinstance(key, ast.Constant) and key.value == "base")
                        or (isinstance(key, ast.Name) and key.id.startswith("CONF_"))
                    )
                ):
                    found.add(value.value)
            elif (
                path.name == "setup.py"
                and isinstance(node, ast.Return)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.add(node.value.value)
    return found


def _abort_reasons() -> set[str]:
    found: set[str] = set()
    for method in (
        "async_abort",
        "_abort_if_unique_id_mismatch",
        "_abort_if_unique_id_configured",
    ):
        for path, call in _calls(method):
            if path.name in CONFIG_FLOW_FILES and isinstance(
                reason := _keyword(call, "reason"), ast.Constant
            ):
                found.add(reason.value)
    return found


def _shown_steps() -> dict[str, list[set[str] | None]]:
    """Step id (or `prefix*`) -> the placeholder keys each show_form call passes."""
    shown: dict[str, list[set[str] | None]] = {}
    for method in ("async_show_form", "async_show_menu"):
        for _, call in _calls(method):
            step_id = _keyword(call, "step_id")
            if isinstance(step_id, ast.Constant):
                name = step_id.value
            elif isinstance(step_id, ast.JoinedStr) and isinstance(
                step_id.values[0], ast.Constant
            ):
                name = f"{step_id.values[0].value}*"
            else:
                continue
            keys = _dict_keys(_keyword(call, "description_placeholders"))
            shown.setdefault(name, []).append(keys)
    return shown


# --- the tests --------------------------------------------------------------------


def test_strings_follow_hassfests_rules() -> None:
    _strings_schema()(STRINGS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://<host>:11434/v1 for Ollama.", "HTML"),
        ("https://api.openai.com/v1 for OpenAI.", "URLs"),
        ("Trailing space ", "spaces"),
        ("Named '{name}'", "single quotes"),
        ("Broken {0name}", "identifiers"),
    ],
)
def test_the_rules_reject_what_hassfest_rejects(text: str, message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        _validate_value(text)


def test_en_json_equals_strings_json() -> None:
    english = json.loads((PACKAGE / "translations" / "en.json").read_text("utf-8"))
    assert english == STRINGS


@pytest.mark.parametrize(("path", "text"), list(_leaves(STRINGS)))
def test_the_frontend_can_parse_every_string(path: str, text: str) -> None:
    """ICU MessageFormat: `<x` opens a tag, `{` opens an argument."""
    assert isinstance(text, str), path
    assert not RE_TAG.search(text), f"{path}: {text!r} reads as an unclosed tag"
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert 0 <= depth <= 1, f"{path}: unbalanced or nested braces in {text!r}"
    assert depth == 0, f"{path}: unbalanced braces in {text!r}"


def _steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for flow in ("config", "options"):
        for step_id, step in STRINGS[flow]["step"].items():
            yield flow, step_id, step


@pytest.mark.parametrize(
    ("flow", "step_id", "step"),
    [pytest.param(*s, id=f"{s[0]}.{s[1]}") for s in _steps()],
)
def test_every_field_has_a_description(
    flow: str, step_id: str, step: dict[str, Any]
) -> None:
    missing = set(step.get("data", {})) - set(step.get("data_description", {}))
    assert not missing, f"{flow}.step.{step_id}: no data_description for {missing}"


def _form_schemas() -> Iterator[tuple[str, str, vol.Schema]]:
    """Every form the flows show, with the step that shows it."""
    yield "config", "prusalink", _prusalink_schema({})
    yield "config", "reconfigure", _prusalink_schema({}, with_name=False)
    yield "config", "repetier", repetier_flow._server_schema({})
    yield "config", "reconfigure", repetier_flow._server_schema({})
    yield "options", "polling", options_flow.POLLING_SCHEMA
    yield "options", "detection", options_flow.DETECTION_SCHEMA
    yield "options", "connect", options_flow.CONNECT_SCHEMA
    for detector, schema in options_flow.DETECTOR_SCHEMAS.items():
        yield "options", f"detector_{detector}", schema


@pytest.mark.parametrize(
    ("flow", "step_id", "schema"),
    [pytest.param(*f, id=f"{f[0]}.{f[1]}") for f in _form_schemas()],
)
def test_every_form_field_has_a_label(
    flow: str, step_id: str, schema: vol.Schema
) -> None:
    step = STRINGS[flow]["step"][step_id]
    for key in schema.schema:
        assert str(key) in step.get("data", {}), f"{flow}.{step_id}: no label {key}"


@pytest.mark.parametrize(
    ("flow", "step_id", "schema"),
    [pytest.param(*f, id=f"{f[0]}.{f[1]}") for f in _form_schemas()],
)
def test_number_fields_say_their_range(
    flow: str, step_id: str, schema: vol.Schema
) -> None:
    """A number the UI limits says its limits, so no "Value 1.0 is too small"."""
    step = STRINGS[flow]["step"][step_id]
    for key, validator in schema.schema.items():
        if not isinstance(validator, selector.NumberSelector):
            continue
        description = step["data_description"][str(key)]
        numbers = set(re.findall(r"\d+", description))
        for bound in ("min", "max"):
            if (limit := validator.config.get(bound)) is not None:
                assert str(int(limit)) in numbers, (
                    f"{flow}.{step_id}.{key}: the description does not say "
                    f"the {bound}imum {int(limit)}: {description!r}"
                )


def test_number_fields_show_their_value() -> None:
    """No bare vol.Range: HA's frontend draws it as a slider without a number."""
    for flow, step_id, schema in _form_schemas():
        for key, validator in schema.schema.items():
            assert not isinstance(validator, vol.All), (
                f"{flow}.{step_id}.{key}: use a NumberSelector (box, or slider "
                "with its value), not a bare range"
            )


def test_every_config_error_is_translated() -> None:
    used = _error_keys(CONFIG_FLOW_FILES)
    assert used, "the scan found no config flow errors"
    assert used <= set(STRINGS["config"]["error"]), used - set(
        STRINGS["config"]["error"]
    )


def test_every_options_error_is_translated() -> None:
    used = _error_keys(OPTIONS_FLOW_FILES)
    assert used, "the scan found no options flow errors"
    assert used <= set(STRINGS["options"]["error"]), used - set(
        STRINGS["options"]["error"]
    )


def test_every_abort_reason_is_translated() -> None:
    used = _abort_reasons() | {"already_in_progress", "reauth_successful"}
    used.add("reconfigure_successful")
    assert used <= set(STRINGS["config"]["abort"]), used - set(
        STRINGS["config"]["abort"]
    )


def _translation_keys() -> Iterator[tuple[str, str, set[str] | None, ast.Call]]:
    """(kind, key, placeholder keys supplied, call) for each literal translation_key."""
    for path, tree in SOURCES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            key = _keyword(node, "translation_key")
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else str(getattr(func, "id", ""))
            )
            placeholders = _dict_keys(_keyword(node, "translation_placeholders"))
            if _keyword(node, "translation_domain") is not None:
                kind = "exceptions"
            elif name == "async_create_issue":
                kind = "issues"
            elif name == "SelectSelectorConfig":
                kind = "selector"
            else:
                kind = f"entity.{path.stem}"
            yield kind, key.value, placeholders, node


def test_every_translation_key_exists() -> None:
    found = list(_translation_keys())
    assert {kind for kind, *_ in found} >= {"exceptions", "issues", "selector"}
    for kind, key, _, _ in found:
        section: dict[str, Any] = STRINGS
        for part in kind.split("."):
            section = section.get(part, {})
        assert key in section, f"translation_key {key!r} is not in {kind}"


def test_exception_and_issue_placeholders_are_supplied() -> None:
    for kind, key, supplied, call in _translation_keys():
        if kind not in ("exceptions", "issues") or supplied is None:
            continue  # placeholders built at run time: not checkable statically
        needed = _step_placeholders(STRINGS[kind][key])
        assert needed <= supplied, (
            f"{kind}.{key} (line {call.lineno}) needs {needed - supplied}"
        )


def test_step_placeholders_are_supplied() -> None:
    shown = _shown_steps()
    for flow, step_id, step in _steps():
        needed = _step_placeholders(dict(step))
        calls = shown.get(step_id) or next(
            (
                v
                for k, v in shown.items()
                if k.endswith("*") and step_id.startswith(k[:-1])
            ),
            None,
        )
        assert calls is not None, f"{flow}.{step_id} is never shown"
        for supplied in calls:
            if supplied is None:
                continue
            assert needed <= supplied, (
                f"{flow}.step.{step_id} needs {needed - supplied} in "
                "description_placeholders"
            )
    # the flow title is filled from the discovery's title_placeholders
    assert _placeholders(STRINGS["config"]["flow_title"]) == {"name"}


@pytest.mark.parametrize("detector", sorted(options_flow.DETECTOR_SCHEMAS))
def test_detector_step_placeholders_are_supplied(detector: str) -> None:
    """The detector steps pass their URLs from `DESCRIPTION_PLACEHOLDERS`."""
    needed = _step_placeholders(STRINGS["options"]["step"][f"detector_{detector}"])
    supplied = set(options_flow.DESCRIPTION_PLACEHOLDERS.get(detector, {}))
    assert needed == supplied
