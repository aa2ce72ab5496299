"""The printer backend interface.

Every printer family Print Sentinel talks to (PrusaLink, Repetier-Server, ...) is one
module in this package implementing `PrinterBackend`. The coordinator, the entities,
the buttons and the failure-detection monitor only ever see this interface and the
normalised `PrinterSnapshot`; a backend says which optional entities make sense for
it through `capabilities`. Adding a backend (OctoPrint's API, Moonraker) means:

1. `printers/<name>.py`: a class implementing `PrinterBackend` (identity, poll,
   pause/resume/cancel/continue, thumbnail, camera, diagnostics, `capabilities`),
   raising only the errors below and leaving every value it does not know None
   (no fake values). Declare in `capabilities` what it reports beyond the basics
   (material, fan RPM or percent, layer, chamber) and whether it has an attention
   state to continue from: entities of anything not declared are not created.
   A new kind of optional value gets a new `Capability` member, which the sensor
   description's `exists_fn` checks; sensors a backend can never fill it names in
   an `unreported` attribute (see `ha_device.py`);
2. its config flow mixin, its `PrinterType` registry entry, its strings and its
   simulator: the recipe is in `printer_types.py`.

Nothing in this module imports Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import json
import math
import re
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp


class PrinterState(StrEnum):
    """Normalised printer state (PrusaLink's vocabulary, which others map onto)."""

    IDLE = "idle"
    BUSY = "busy"
    PRINTING = "printing"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    ERROR = "error"
    ATTENTION = "attention"
    READY = "ready"
    UNKNOWN = "unknown"


class Capability(StrEnum):
    """What a backend reports or does beyond what every backend must.

    Every backend reports state, job, progress, times, nozzle and bed temperatures,
    Z height, speed and flow (as far as the printer knows them), and can pause,
    resume and cancel. Entities for anything else exist only for a backend that
    declares the matching capability, so a printer offline at start-up gets the
    same entities as one online, and no entity is forever unknown.
    """

    MATERIAL = "material"
    """Reports the loaded filament type (`PrinterSnapshot.material`)."""
    FAN_RPM = "fan_rpm"
    """Reports fan speeds in RPM (`fan_hotend`, `fan_print`)."""
    FAN_SPEED = "fan_speed"
    """Reports the part-cooling fan's power in percent (`fan_speed`)."""
    LAYER = "layer"
    """Reports the layer being printed (`layer`)."""
    CHAMBER = "chamber"
    """Has a chamber thermometer (`chamber_temperature`); per printer, not per
    backend, so decide it from the printer's configuration, not from a poll."""
    CONTINUE = "continue"
    """Has an ATTENTION state that `async_continue` acknowledges."""
    CAMERA = "camera"
    """Shows its own camera (`async_get_camera_image`), as the user chose it."""


ACTIVE_STATES = frozenset({PrinterState.PRINTING, PrinterState.PAUSED})
PRINTER_FAILURE: Final = "printer_failure"
"""`PrinterSnapshot.extra` key: the printer's own failure detection (Bambu Lab's HMS
and AI errors) says the running print failed; its text. The monitor takes that as a
failure already decided (a `failure` event, no second pause)."""
PROBLEM_STATES = frozenset({PrinterState.ERROR, PrinterState.ATTENTION})


@dataclass(frozen=True, kw_only=True)
class JobSnapshot:
    """The job a printer is working on. Fields a backend does not know are None."""

    id: int | str | None = None
    name: str | None = None
    """What a user calls the job (PrusaLink `display_name`)."""
    path: str | None = None
    """Where the print file lives on the printer, for metadata and thumbnails."""
    progress: float | None = None
    """Percent, 0-100."""
    time_remaining: int | None = None
    """Seconds."""
    time_printing: int | None = None
    """Seconds."""
    thumbnail_path: str | None = None
    material: str | None = None
    """Filament type from the print file's metadata (PLA, PETG, ...)."""


@dataclass(frozen=True, kw_only=True)
class PrinterSnapshot:
    """One poll of a printer, normalised. Every measurement is optional."""

    state: PrinterState
    raw_state: str | None = None
    """The state string as the printer sent it, for diagnostics."""
    nozzle_temperature: float | None = None
    nozzle_target: float | None = None
    bed_temperature: float | None = None
    bed_target: float | None = None
    chamber_temperature: float | None = None
    z_height: float | None = None
    print_speed: float | None = None
    """Percent."""
    flow: float | None = None
    """Percent."""
    fan_hotend: int | None = None
    """RPM."""
    fan_print: int | None = None
    """RPM."""
    fan_speed: float | None = None
    """Part-cooling fan power, percent (for printers that report PWM, not RPM)."""
    layer: int | None = None
    material: str | None = None
    """Loaded filament type as the printer reports it; None when nothing is loaded."""
    job: JobSnapshot | None = None
    extra: dict[str, float | int | str | None] = field(default_factory=dict)
    """Backend-specific values a dedicated sensor may read (e.g. more extruders)."""

    @property
    def is_printing(self) -> bool:
        """Return True while the printer works on a print (not paused)."""
        return self.state is PrinterState.PRINTING

    @property
    def has_job(self) -> bool:
        """Return True while a job is printing or paused."""
        return self.state in ACTIVE_STATES


@dataclass(frozen=True, kw_only=True)
class PrinterIdentity:
    """Who a printer is: read once at setup and for the device registry."""

    unique_id: str
    """Stable id: the serial number where the printer has one."""
    name: str
    model: str | None = None
    serial_number: str | None = None
    hostname: str | None = None
    firmware: str | None = None
    manufacturer: str | None = None
    configuration_url: str | None = None
    device_id: str | None = None
    """The device registry id of a printer another Home Assistant integration
    already has: Print Sentinel's entities join that device instead of making one."""


class PrinterError(Exception):
    """Base class of every error a backend raises."""


class PrinterConnectionError(PrinterError):
    """The printer could not be reached, or timed out."""


class PrinterAuthError(PrinterError):
    """The printer refused our credentials."""


class PrinterResponseError(PrinterError):
    """The printer answered, but not with what its API promises."""


class PrinterCommandRefused(PrinterError):
    """The printer refused a command (e.g. 409: not in a state that allows it)."""


class PrinterCommandUnsupported(PrinterError):
    """The printer's firmware does not know a command (e.g. 404)."""


class PrinterBackend(Protocol):
    """What Print Sentinel needs from a printer.

    Implementations keep their own client and decide which endpoints a poll needs
    (cheap status every cycle, expensive data only on change), since only they
    know the cost of their API.
    """

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Return what this printer reports and supports beyond the basics.

        Read when the entities are created, after `async_get_identity` (which may
        read the printer's configuration for per-printer capabilities such as a
        chamber); a class attribute is enough when it is the same for every printer.
        """

    async def async_get_identity(self) -> PrinterIdentity:
        """Read who the printer is. Also validates host and credentials."""

    async def async_poll(self) -> PrinterSnapshot:
        """Read the printer's current state as cheaply as the protocol allows."""

    async def async_pause(self) -> None:
        """Pause the current job."""

    async def async_resume(self) -> None:
        """Resume the paused job."""

    async def async_cancel(self) -> None:
        """Cancel (stop) the current job."""

    async def async_continue(self) -> None:
        """Acknowledge an ATTENTION state so the printer goes on.

        A backend without `Capability.CONTINUE` raises `PrinterCommandUnsupported`.
        """

    async def async_get_thumbnail(self) -> bytes | None:
        """Return the current job's thumbnail (PNG/JPEG), or None."""

    async def async_get_camera_image(self) -> bytes | None:
        """Return a JPEG from the printer's own camera, or None if it has none.

        None also when the user chose no camera; the camera entity then shows the
        job's thumbnail.
        """

    def diagnostics(self) -> dict[str, object]:
        """Return non-secret facts about the connection for diagnostics."""


@runtime_checkable
class PushingBackend(Protocol):
    """A backend that learns of changes by itself (no need to wait for a poll)."""

    def async_subscribe(self, on_change: Callable[[], None]) -> Callable[[], Any]:
        """Call `on_change` on every change; return what stops it (a callback).

        The callback may return an awaitable, which Home Assistant then awaits.
        """


# -- Bounding what a printer sends ---------------------------------------------
#
# Every answer of a printer is hostile until checked. A backend parses it at its
# edge into bounded, finite values with the helpers below, so nothing unbounded
# (a 300 MiB body, a 5,000-character name, 1e300 percent) reaches the entities.

MAX_TEXT: Final = 255
"""Longest text kept from a printer (names, reasons): Home Assistant's state limit."""
MAX_JSON_BODY: Final = 4 * 1024 * 1024
"""Largest JSON answer read (a status answer is a few KiB)."""
MAX_IMAGE_BODY: Final = 20 * 1024 * 1024
"""Largest image (webcam snapshot, thumbnail) read."""
MAX_DURATION: Final = 366 * 24 * 3600
"""Longest job time believed, seconds (a year); anything longer is unknown."""
ELLIPSIS: Final = "\u2026"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")
"""Control characters, and lone surrogates (JSON `"\\ud800"`: no UTF-8 can hold one)."""
_MAX_EXACT_INT: Final = 2**53


class PrinterBodyTooLarge(PrinterResponseError):
    """The printer sent a body larger than Print Sentinel reads."""


def bounded_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Return a string as plain, bounded text; None when it is no string or empty.

    Control characters (newlines, escapes) and lone surrogates (which HA could not
    write into a state) become one space, surrounding space is
    stripped, and a longer text is cut to `limit` characters ending in an ellipsis.
    The text is kept as it is otherwise: escape it where Markdown renders it.
    """
    if not isinstance(value, str):
        return None
    text = _CONTROL.sub(" ", value).strip()
    if not text:
        return None
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def bounded_number(
    value: object, minimum: float = -1e9, maximum: float = 1e9
) -> float | None:
    """Return a finite number within [minimum, maximum], else None.

    Bools are no numbers; NaN, infinities (JSON `1e400`), integers too large for a
    float and values out of range are unknown, never clamped into a fake value.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and abs(value) > _MAX_EXACT_INT:
        return None
    number = float(value)
    if not math.isfinite(number) or not minimum <= number <= maximum:
        return None
    return number


def bounded_int(
    value: object, minimum: int = -(10**9), maximum: int = 10**9
) -> int | None:
    """Return a number within [minimum, maximum] rounded to an int, else None."""
    number = bounded_number(value, minimum, maximum)
    return None if number is None else round(number)


def bounded_duration(value: object) -> int | None:
    """Return seconds between 0 and `MAX_DURATION`, else None (negative: unknown)."""
    return bounded_int(value, 0, MAX_DURATION)


def bounded_progress(value: object) -> float | None:
    """Return percent in 0-100 (a hair over 100 is 100), else None."""
    number = bounded_number(value, 0.0, 101.0)
    return None if number is None else min(100.0, number)


def parse_json(body: bytes | str, what: str) -> Any:
    """Decode a JSON answer; raise PrinterResponseError for anything that is not.

    Deep nesting (RecursionError), `NaN` and `Infinity` literals (kept as None),
    integers of thousands of digits and invalid text all end here as a response
    error of the client, never as an exception escaping into Home Assistant.
    """
    try:
        return json.loads(body, parse_constant=lambda _constant: None)
    except (ValueError, RecursionError) as err:
        raise PrinterResponseError(f"{what} is not valid JSON") from err


async def read_bounded(
    response: aiohttp.ClientResponse, limit: int, what: str
) -> bytes:
    """Read a response body of at most `limit` bytes.

    A `Content-Length` over the limit is refused before anything is read; a body
    that grows past it while streaming stops the read at the limit. Raises
    PrinterBodyTooLarge (a PrinterResponseError).
    """
    if response.content_length is not None and response.content_length > limit:
        raise PrinterBodyTooLarge(
            f"{what} is {response.content_length} bytes, more than the {limit} read"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PrinterBodyTooLarge(f"{what} is more than the {limit} bytes read")
        chunks.append(chunk)
    return b"".join(chunks)


class SeenOnce:
    """A bounded memory of strange values a printer sent, to log each only once.

    `add` returns True the first time a value is seen (log it then); after
    `max_items` distinct values nothing new is kept and `add` returns True once
    more, for one last line that says further values are not logged. Values are
    cut to `item_length`, so the memory stays small whatever the printer sends.
    """

    def __init__(self, max_items: int = 20, item_length: int = 64) -> None:
        """Create an empty memory."""
        self._max_items = max_items
        self._item_length = item_length
        self._seen: set[str] = set()
        self.overflowed = False
        """True once a value arrived after the memory was full."""

    def shorten(self, value: object) -> str:
        """Return the bounded text a value is kept and logged as."""
        text = value if isinstance(value, str) else repr(value)
        return bounded_text(text[: self._item_length * 4], self._item_length) or "''"

    def add(self, value: object) -> bool:
        """Remember a value; return True when it should be logged."""
        key = self.shorten(value)
        if key in self._seen:
            return False
        if len(self._seen) >= self._max_items:
            if self.overflowed:
                return False
            self.overflowed = True
            return True
        self._seen.add(key)
        return True

    def values(self) -> list[str]:
        """Return the values kept, sorted (for diagnostics)."""
        return sorted(self._seen)
