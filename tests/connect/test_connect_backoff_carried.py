"""The back-off of an outage at one print's end does not delay the next print."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from ..common import advance


async def test_new_print_uploads_at_once_after_idle_hours(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    connect_sim,
    make_uploader,
) -> None:
    printing = True
    uploader = make_uploader(only_printing=True, is_printing=lambda: printing)
    connect_sim.fail_500 = True
    for _ in range(70):  # an outage at the end of a print: back-off reaches 5 min
        await advance(hass, freezer, 10)
    printing = False  # the print ends; Connect is fine again
    connect_sim.fail_500 = False
    for _ in range(6 * 60 * 3):  # three idle hours
        await advance(hass, freezer, 10)
    printing = True  # the next print starts
    for _ in range(3):
        await advance(hass, freezer, 10)
    assert uploader.uploads >= 1, "the new print's camera is not uploaded for minutes"
