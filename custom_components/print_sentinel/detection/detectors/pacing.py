"""Keep to the call interval a detector service asked for."""

from __future__ import annotations

from collections.abc import Callable

from ..verdict import DetectorPaced


class Pacer:
    """Refuses calls, without sending them, until a service's wait has passed.

    Gadget's `NextProcessIntervalSec` and PrintWatch's 213 back-off both say "not
    before then"; calling earlier only burns quota and risks a block.
    """

    def __init__(self, service: str, clock: Callable[[], float]) -> None:
        """Initialise for `service` (named in the error) on a monotonic `clock`."""
        self._service = service
        self._clock = clock
        self._not_before: float | None = None

    def check(self) -> None:
        """Raise DetectorPaced (a DetectorRateLimited) while the wait lasts."""
        if self._not_before is None:
            return
        remaining = self._not_before - self._clock()
        if remaining > 0:
            raise DetectorPaced(
                f"{self._service} asked to wait {remaining:.0f} s more",
                retry_after=remaining,
            )

    def wait(self, seconds: float) -> None:
        """Allow the next call only `seconds` from now."""
        self._not_before = self._clock() + seconds
