"""Acting on a decision: pause or stop the print, notify, fire the event, repair.

When the detector refuses its key, the repair issue says so.

Text from outside (the model's reason, the printer's name) goes into the persistent
notification's Markdown escaped and cut to a sane length: a reason such as
``[open](javascript:alert(1))`` shows as those characters, never as a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import logging
import re

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir, translation

from ..const import ACTION_CANCEL, ACTION_PAUSE, DOMAIN, EVENT_DETECTION
from ..coordinator import PrinterCoordinator
from ..links import EntityLinks
from ..printers.base import PrinterCommandUnsupported, PrinterError
from .verdict import Verdict

_LOGGER = logging.getLogger(__name__)

MAX_NAME = 80
"""Characters of a printer's name shown in a notification."""
MAX_REASON = 300
"""Characters of the model's reason shown in a notification."""

RESULT_PAUSED = "paused"
RESULT_CANCELLED = "cancelled"
RESULT_NOTIFIED = "notified"
RESULT_NONE = "none"
FAILED = "_failed"
"""What ends the result of an action the printer did not do (`pause_failed`)."""

_WHAT_WAS_DONE = {
    RESULT_PAUSED: "notification_paused",
    RESULT_CANCELLED: "notification_cancelled",
    RESULT_NOTIFIED: "notification_check",
}
NOTIFICATION_TEXTS: dict[str, str] = {
    "notification_title_warning": "{printer}: possible print warning",
    "notification_title_failure": "{printer}: possible print failure",
    "notification_message": "{kind} (score {score}): {reason}\n\n{what}",
    "notification_paused": "Print Sentinel paused the print.",
    "notification_cancelled": "Print Sentinel stopped the print.",
    "notification_check": "Check the print.",
    "notification_not_acted": "Print Sentinel could not act ({action}); check the print.",
}
"""The notification's texts in English, as in strings.json (`exceptions`), for when
the translation is missing or broken."""
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def camera_issue_id(entry_id: str) -> str:
    """The repair issue of a printer whose detection camera is gone."""
    return f"detection_camera_{entry_id}"


def cut(text: str, limit: int) -> str:
    """Return `text` on one line, at most `limit` characters (an ellipsis if cut)."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape_markdown(text: str) -> str:
    """Return `text` so that Markdown (and HTML in it) shows as plain characters."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _text(texts: dict[str, str], key: str, **placeholders: str) -> str:
    """One notification text in the user's language (English if that fails)."""
    template = texts.get(f"component.{DOMAIN}.exceptions.{key}.message")
    if template:
        try:
            return template.format(**placeholders)
        except KeyError, IndexError, ValueError:
            pass
    return NOTIFICATION_TEXTS[key].format(**placeholders)


def notification_message(
    verdict: Verdict, result: str, texts: dict[str, str] | None = None
) -> str:
    """The persistent notification's Markdown for a decision and what was done."""
    texts = texts or {}
    if (what_key := _WHAT_WAS_DONE.get(result)) is not None:
        what = _text(texts, what_key)
    else:
        what = _text(texts, "notification_not_acted", action=result)
    return _text(
        texts,
        "notification_message",
        kind=verdict.kind.value.replace("_", " ").capitalize(),
        score=f"{verdict.failure_score:.0f}",
        reason=escape_markdown(cut(verdict.reason, MAX_REASON)),
        what=what,
    )


@dataclass(kw_only=True)
class DetectionEvent:
    """A warning or failure decision and what was done about it."""

    level: str
    verdict: Verdict
    action: str
    at: datetime
    false_alarm: bool = False
    """The user marked it as a false alarm."""


class Actions:
    """Does what a decision calls for on one printer."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        coordinator: PrinterCoordinator,
        links: EntityLinks,
    ) -> None:
        """Initialise."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._links = links

    @property
    def notification_id(self) -> str:
        """The id of this printer's detection notification."""
        return f"{DOMAIN}_{self._entry.entry_id}_detection"

    async def async_failure(self, action: str, verdict: Verdict) -> tuple[str, bool]:
        """Pause, stop or only notify (`action`).

        Return what was done, and whether trying again may work (the printer did not
        do it this time, but it can: not a printer without a pause entity).
        """
        backend = self._coordinator.backend
        retry = False
        try:
            if action == ACTION_PAUSE:
                await backend.async_pause()
                result = RESULT_PAUSED
            elif action == ACTION_CANCEL:
                await backend.async_cancel()
                result = RESULT_CANCELLED
            else:
                result = RESULT_NOTIFIED
        except PrinterError as err:
            _LOGGER.error(
                "Print Sentinel saw a failure on %s but could not %s the print: %s",
                self._entry.title,
                action,
                err,
            )
            result = f"{action}{FAILED}"
            retry = not isinstance(err, PrinterCommandUnsupported)
        await self.async_notify("failure", verdict, result)
        await self._coordinator.async_request_refresh()
        return result, retry

    async def async_notify(self, level: str, verdict: Verdict, result: str) -> None:
        """Show (or replace) the printer's persistent notification."""
        texts = await translation.async_get_translations(
            self._hass, self._hass.config.language, "exceptions", {DOMAIN}
        )
        persistent_notification.async_create(
            self._hass,
            notification_message(verdict, result, texts),
            title=_text(
                texts,
                f"notification_title_{level}",
                printer=cut(self._entry.title, MAX_NAME),
            ),
            notification_id=self.notification_id,
        )

    def raise_auth_issue(self, detector: str, reason: str) -> None:
        """The repair issue: the detector refused the key, detection is off."""
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"detector_auth_{self._entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="detector_auth_failed",
            translation_placeholders={
                "printer": self._entry.title,
                "detector": detector,
                "reason": reason,
            },
        )

    def raise_camera_issue(self, camera: str, *, frozen: bool = False) -> None:
        """The repair issue: the camera detection looks through is gone or frozen."""
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            camera_issue_id(self._entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=(
                "detection_camera_frozen" if frozen else "detection_camera_missing"
            ),
            translation_placeholders={"printer": self._entry.title, "camera": camera},
        )

    def delete_camera_issue(self) -> None:
        """The camera is back, or detection stops: the repair issue goes."""
        ir.async_delete_issue(self._hass, DOMAIN, camera_issue_id(self._entry.entry_id))

    def delete_auth_issue(self) -> None:
        """The user reset detection: the repair issue goes."""
        ir.async_delete_issue(
            self._hass, DOMAIN, f"detector_auth_{self._entry.entry_id}"
        )

    def dismiss(self) -> None:
        """Remove the printer's notification (the user called it a false alarm)."""
        persistent_notification.async_dismiss(self._hass, self.notification_id)

    def fire(self, event: DetectionEvent) -> None:
        """Put a decision on the event bus (`print_sentinel_detection`)."""
        links = self._links
        self._hass.bus.async_fire(
            EVENT_DETECTION,
            {
                "entry_id": self._entry.entry_id,
                "device_id": links.device_id,
                "level": event.level,
                "verdict": event.verdict.as_dict(),
                "action": event.action,
                "image_entity_id": links.flagged_frame_entity_id,
                "chart_entity_id": links.chart_entity_id,
            },
        )
