"""The failure response blueprint: notify with the frame, act on the user's answer."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.print_sentinel.const import EVENT_DETECTION

from . import (
    FakePrinter,
    async_create_automation,
    async_create_automations,
    register_printer,
)

BLUEPRINT = "failure_response.yaml"
NOTIFY = "notify.mobile_app_phone"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config directory."""
    return hass_tmp_config_dir


@pytest.fixture
def printer(hass: HomeAssistant) -> FakePrinter:
    """The printer whose failures are answered."""
    return register_printer(hass)


@pytest.fixture
def notifications(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture the notifications sent."""
    return async_mock_service(hass, "notify", "mobile_app_phone")


@pytest.fixture
def presses(hass: HomeAssistant) -> list[ServiceCall]:
    """Capture the buttons pressed."""
    return async_mock_service(hass, "button", "press")


def _pressed(presses: list[ServiceCall]) -> list[str]:
    return [entity for call in presses for entity in call.data["entity_id"]]


def _inputs(printer: FakePrinter, **extra: Any) -> dict[str, Any]:
    return {
        "pause_button": printer["pause"],
        "cancel_button": printer["cancel"],
        "resume_button": printer["resume"],
        "notify_action": NOTIFY,
        **extra,
    }


async def _create(hass: HomeAssistant, printer: FakePrinter, **extra: Any) -> None:
    await async_create_automation(hass, BLUEPRINT, _inputs(printer, **extra))


async def _detect(
    hass: HomeAssistant,
    printer: FakePrinter,
    level: str = "failure",
    action: str = "notified",
) -> None:
    hass.bus.async_fire(
        EVENT_DETECTION,
        {
            "entry_id": "entry",
            "device_id": printer.device_id,
            "level": level,
            "verdict": {
                "failure_score": 87.4,
                "kind": "spaghetti",
                "reason": "Loose strands of filament above the bed",
                "detector": "openai",
            },
            "action": action,
            "image_entity_id": printer["flagged_frame"],
            "chart_entity_id": "image.mk4s_detection_chart",
        },
    )
    await hass.async_block_till_done()


async def _tap(hass: HomeAssistant, notification: ServiceCall, title: str) -> None:
    """Tap the button with this title in a notification, as the phone would."""
    buttons = notification.data["data"]["actions"]
    action = next(b["action"] for b in buttons if b["title"] == title)
    hass.bus.async_fire("mobile_app_notification_action", {"action": action})
    await hass.async_block_till_done()


def _titles(notification: ServiceCall) -> list[str]:
    return [b["title"] for b in notification.data["data"]["actions"]]


async def test_warning_notification_shows_the_frame_and_offers_pause(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    await _detect(hass, printer, level="warning")

    assert len(notifications) == 1
    data = notifications[0].data
    assert data["title"] == "MK4S: print may be failing"
    assert "Loose strands of filament above the bed" in data["message"]
    assert "87/100" in data["message"]
    assert "The print continues." in data["message"]
    assert data["data"]["image"] == f"/api/image_proxy/{printer['flagged_frame']}"
    assert _titles(notifications[0]) == ["Pause", "Stop", "Ignore"]
    assert not presses  # nothing is done until the user answers


@pytest.mark.parametrize(("title", "button"), [("Pause", "pause"), ("Stop", "cancel")])
async def test_tapping_pause_or_stop_presses_the_printer_button(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
    title: str,
    button: str,
) -> None:
    await _create(hass, printer)
    await _detect(hass, printer)

    await _tap(hass, notifications[0], title)

    assert _pressed(presses) == [printer[button]]


async def test_tapping_ignore_leaves_the_print_alone(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer)
    await _detect(hass, printer)

    await _tap(hass, notifications[0], "Ignore")

    assert not presses
    assert len(notifications) == 1


async def test_print_paused_by_the_integration_offers_resume(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer)
    await _detect(hass, printer, action="paused")

    assert "The print is paused." in notifications[0].data["message"]
    assert _titles(notifications[0]) == ["Resume", "Stop", "Ignore"]
    await _tap(hass, notifications[0], "Resume")
    assert _pressed(presses) == [printer["resume"]]


async def test_paused_print_without_resume_button_offers_stop_and_ignore(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
) -> None:
    await _create(hass, printer, resume_button=[])

    await _detect(hass, printer, action="paused")

    assert _titles(notifications[0]) == ["Stop", "Ignore"]


async def test_cancelled_print_is_reported_without_buttons(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    await _detect(hass, printer, action="cancelled")

    assert notifications[0].data["title"] == "MK4S: print failure"
    assert "The print was stopped." in notifications[0].data["message"]
    assert notifications[0].data["data"]["actions"] == []
    assert not presses


async def test_other_printers_and_unselected_levels_are_ignored(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
) -> None:
    other = register_printer(hass, serial="SN-OTHER", name="Voron")
    await _create(hass, printer, levels=["failure"])

    await _detect(hass, other)
    await _detect(hass, printer, level="warning")

    assert not notifications


async def test_answers_to_other_notifications_are_ignored(
    hass: HomeAssistant,
    printer: FakePrinter,
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer)

    hass.bus.async_fire("mobile_app_notification_action", {"action": "OPEN_GARAGE"})
    await hass.async_block_till_done()

    assert not presses


async def test_two_phones_two_automations_one_press(
    hass: HomeAssistant,
    printer: FakePrinter,
    presses: list[ServiceCall],
) -> None:
    mine = async_mock_service(hass, "notify", "mobile_app_mine")
    yours = async_mock_service(hass, "notify", "mobile_app_yours")
    await async_create_automations(
        hass,
        [
            (
                "mine",
                BLUEPRINT,
                _inputs(printer, notify_action="notify.mobile_app_mine"),
            ),
            (
                "yours",
                BLUEPRINT,
                _inputs(printer, notify_action="notify.mobile_app_yours"),
            ),
        ],
    )

    await _detect(hass, printer)
    assert len(mine) == len(yours) == 1
    await _tap(hass, yours[0], "Pause")

    assert _pressed(presses) == [printer["pause"]]


async def test_automatic_pause_only_when_the_integration_did_not_act(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer, auto_action="pause")

    await _detect(hass, printer, action="paused")  # the integration paused
    await _detect(hass, printer, level="warning", action="notified")
    assert not presses

    await _detect(hass, printer, action="notified")  # it only notified
    assert _pressed(presses) == [printer["pause"]]
    assert "The print is paused." in notifications[-1].data["message"]
    assert _titles(notifications[-1]) == ["Resume", "Stop", "Ignore"]


async def test_automatic_stop(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    presses: list[ServiceCall],
) -> None:
    await _create(hass, printer, auto_action="cancel")

    await _detect(hass, printer, action="none")

    assert _pressed(presses) == [printer["cancel"]]
    assert notifications[0].data["data"]["actions"] == []


async def test_extra_actions_run_with_the_verdict(
    hass: HomeAssistant, printer: FakePrinter, notifications: list[ServiceCall]
) -> None:
    lights = async_mock_service(hass, "light", "turn_on")
    extra = [
        {
            "action": "light.turn_on",
            "target": {"entity_id": "light.printer_room"},
            "data": {"flash": "{{ 'long' if level == 'failure' else 'short' }}"},
        }
    ]
    await _create(hass, printer, extra_actions=extra, include_image=False)

    await _detect(hass, printer)

    assert [call.data["flash"] for call in lights] == ["long"]
    assert "image" not in notifications[0].data["data"]


async def _detect_reason(
    hass: HomeAssistant, printer: FakePrinter, reason: str
) -> None:
    hass.bus.async_fire(
        EVENT_DETECTION,
        {
            "entry_id": "entry",
            "device_id": printer.device_id,
            "level": "failure",
            "verdict": {"failure_score": 87.4, "kind": "spaghetti", "reason": reason},
            "action": "notified",
            "image_entity_id": printer["flagged_frame"],
        },
    )
    await hass.async_block_till_done()


async def test_reason_is_escaped_where_markdown_renders_it(
    hass: HomeAssistant, printer: FakePrinter
) -> None:
    calls = async_mock_service(hass, "notify", "persistent_notification")
    await _create(hass, printer, notify_action="notify.persistent_notification")

    await _detect_reason(hass, printer, "[click](http://evil) **now**")

    assert (
        calls[0]
        .data["message"]
        .startswith("\\[click\\](http://evil) \\*\\*now\\*\\* (score 87/100).")
    )


@pytest.mark.parametrize(
    ("reason", "shown"), [("0", "0"), ("r" * 5_000, "r" * 255)], ids=["zero", "long"]
)
async def test_reason_is_plain_bounded_text_in_a_mobile_notification(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    reason: str,
    shown: str,
) -> None:
    await _create(hass, printer)

    await _detect_reason(hass, printer, reason)

    assert notifications[0].data["message"].startswith(f"{shown} (score 87/100).")


@pytest.mark.parametrize("chosen", [False, True])
async def test_the_detection_chart_follows_when_chosen(
    hass: HomeAssistant,
    printer: FakePrinter,
    notifications: list[ServiceCall],
    chosen: bool,
) -> None:
    await _create(hass, printer, include_chart=chosen)

    await _detect(hass, printer)

    assert notifications[0].data["data"]["image"] == (
        f"/api/image_proxy/{printer['flagged_frame']}"
    )
    if not chosen:
        assert len(notifications) == 1
        return
    assert len(notifications) == 2
    chart = notifications[1].data
    assert chart["title"] == "MK4S: detection chart"
    assert chart["data"]["image"] == "/api/image_proxy/image.mk4s_detection_chart"
