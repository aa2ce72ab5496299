"""When a camera's picture counts as frozen (`StillPicture`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.print_sentinel.detection.frames import StillPicture
from custom_components.print_sentinel.detection.verdict import Frame

START = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def _frame(picture: int, minute: float) -> Frame:
    jpeg = b"\xff\xd8" + picture.to_bytes(4, "big")
    return Frame(
        jpeg=jpeg, captured_at=START + timedelta(minutes=minute), width=4, height=3
    )


def _checks(still: StillPicture, pictures: list[int], start: float) -> list[bool]:
    """One check a minute from `start`, the camera showing `pictures` in turn."""
    return [still.frozen(_frame(p, start + i)) for i, p in enumerate(pictures)]


def test_a_live_camera_is_never_frozen() -> None:
    still = StillPicture(5, 300)
    assert not any(_checks(still, list(range(120)), 0))


def test_the_same_picture_for_five_minutes_is_frozen() -> None:
    still = StillPicture(5, 300)
    assert _checks(still, [1] * 7, 0) == [False] * 5 + [True] * 2


def test_a_real_freeze_fixed_after_long_teaches_nothing() -> None:
    still = StillPicture(5, 300)
    assert _checks(still, [1] * 40, 0)[-1]  # frozen for 40 minutes, then fixed
    assert not any(_checks(still, list(range(2, 12)), 40))
    # it freezes again: five minutes, as for any live camera
    assert _checks(still, [99] * 7, 50) == [False] * 5 + [True] * 2


def test_a_slow_camera_is_frozen_once_then_given_its_pace() -> None:
    # a time-lapse camera: a new picture every six minutes
    still = StillPicture(5, 300)
    pictures = [minute // 6 for minute in range(60)]
    frozen = _checks(still, pictures, 0)
    assert frozen[5]  # the first still stretch looks frozen
    assert not any(frozen[6:])
    assert still.seconds == 720
