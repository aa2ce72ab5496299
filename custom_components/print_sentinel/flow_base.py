"""What every printer type's config flow mixin shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.helpers import selector

from .validation import has_control_chars

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigFlow

    FlowBase = ConfigFlow
    """For the type checker a mixin is a config flow (it runs as part of one)."""
else:
    FlowBase = object

PASSWORD_SELECTOR: Final = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
MAX_NAME_LENGTH: Final = 64
"""Longest printer name a form takes."""


def name_error(name: str) -> str | None:
    """The form error for a printer name as typed (spaces already collapsed), or None."""
    if len(name) > MAX_NAME_LENGTH:
        return "name_too_long"
    if has_control_chars(name):
        return "invalid_name"
    return None
