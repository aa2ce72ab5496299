"""Push from Repetier-Server: its websocket, kept open while Home Assistant runs.

Repetier-Server serves a websocket at `/socket/?apikey=<key>`. A client sends
requests `{"action": ..., "data": {...}, "printer": <slug>, "callback_id": N}` and
gets the answer back with the same `callback_id`; the server pushes events as
`{"callback_id": -1, "eventList": true, "data": [{"event": ..., "printer": <slug>,
"data": {...}}, ...]}` (`temp`, `state`, `jobStarted`, `jobFinished`, `jobKilled`,
`printerListChanged`, ...).

The shapes of the events differ between server versions, so an event is taken as
"this printer changed": the socket then asks the server, over the same socket, for
`listPrinter` and `stateList` (the two answers a poll reads over HTTP), at most once
a `RESYNC_SECONDS`, and keeps the newest of each. The backend builds its snapshot
from them while the socket is healthy, so no HTTP request is made; every connect
starts with that resync, so nothing that happened while the socket was down is
missed or seen twice (the job events come from comparing snapshots, and a job
that ended meanwhile is simply gone from the new `listPrinter`).

When the socket drops it reconnects with back-off (`BACKOFF`); meanwhile the
backend polls over HTTP as without push. One warning when it stays lost, one line
when it is back for good (`STABLE_SECONDS`). Every frame is bounded (`MAX_FRAME`)
and parsed like an HTTP answer; a frame that is not JSON or not an object is
ignored. A resync that gets no answer in time, or a wrong one, drops the socket:
the printer is polled until a reconnect answers again. The API key is part of the
URL, so the URL is never logged, and error texts lose the key in every form a URL
carries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import itertools
import json
import logging
import re
from typing import Any, Final

import aiohttp
from yarl import URL

from ..redact import redact_secrets
from .base import PrinterResponseError, parse_json

_LOGGER = logging.getLogger(__name__)

MAX_FRAME: Final = 1024 * 1024
"""A websocket message above this is not Repetier-Server's (they are a few kB)."""
REQUEST_TIMEOUT: Final = 10.0
"""Seconds an answer over the socket may take."""
HEARTBEAT: float | None = 30.0
"""Seconds between websocket pings; a server that stops answering is dropped."""
RESYNC_SECONDS: Final = 1.0
"""Events within this many seconds share one resync."""
TEMP_RESYNC_SECONDS: float = 10.0
"""A resync for temperature events alone waits this long after the last one: the
server sends them every second, and temperatures (and the progress read with them)
need no fresher view than polling gives. Any other event resyncs within
`RESYNC_SECONDS`."""
IDLE_TEMP_RESYNC_SECONDS: float = 30.0
"""The same while the printer has no job (as polling does when idle)."""
QUIET_EVENTS: Final = frozenset(
    {
        "temp",
        "move",  # each move, while a client shows them
        "log",  # each line to and from the printer, while a console is open
        "timer30",
        "timer60",
        "timer300",
        "timer1800",
        "timer3600",
        "dispatcherCount",
    }
)
"""Events that come often and change no state: only worth a resync at
`TEMP_RESYNC_SECONDS` (a job's start, end, pause or a printer's state is not one
of them, and any other event resyncs at once)."""
BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before each reconnect attempt; the last repeats."""
STABLE_SECONDS: Final = 60.0
"""A connection that lasted this long is push back: it starts the back-off afresh
when it drops, ends the wait for the warning below and is worth the "is back" line.
One dropped sooner (a server or proxy that closes right after the first answers)
counts as a failed attempt, so such a server is not reconnected to every second,
and push stays down for the warning, which a brief connection each minute would
otherwise keep off for ever."""
ENDINGS: Final = {"jobFinished": "finished", "jobKilled": "killed"}
"""The events that say how a job ended (polling only sees it disappear)."""
PUSH_DOWN_GRACE: Final = 120.0
"""Seconds push may stay down while the server answers over HTTP before a warning.
A server that restarts or goes away is the coordinator's outage (its one log line);
a push that stays off while polling works (a proxy that drops websockets, an old
server) is logged by the socket, once."""
MAX_EVENTS: Final = 200
"""Events read from one message; more are ignored."""


class RepetierSocket:
    """The websocket of one printer's Repetier-Server, its latest answers."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: URL,
        api_key: str,
        slug: str,
        on_change: Callable[[], None],
        *,
        where: str,
        backoff: tuple[float, ...] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Prepare the socket; `async_start` connects."""
        self._session = session
        scheme = "wss" if base_url.scheme == "https" else "ws"
        self._url = base_url.with_scheme(scheme).with_path("/socket/")
        self._api_key = api_key
        self._slug = slug
        self._on_change = on_change
        self._where = where
        self._backoff = backoff or BACKOFF
        # the event loop's clock, the one `asyncio.sleep` waits on
        self._clock = clock or asyncio.get_running_loop().time
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._resync_task: asyncio.Task[None] | None = None
        self._resync_due: float | None = None
        """When the next resync should run (clock time); None: none is wanted."""
        self._resync_wake = asyncio.Event()
        self._last_resync = -1e9
        self._outage_logged = False
        self._down_reason = ""
        self._drop_reason: str | None = None
        """Why the socket was closed by us (no answers, wrong ones), for the log."""
        self._polled_since: float | None = None
        """Since when polling has answered while push is down (clock time)."""
        self.healthy = False
        """Connected and resynced: `printers` and `states` are current."""
        self._healthy_since = 0.0
        self.printers: list[dict[str, Any]] | None = None
        """The newest `listPrinter` answer."""
        self.states: dict[str, Any] | None = None
        """The newest `stateList` answer."""
        self.ended: str | None = None
        """How the last job ended ("finished" or "killed"), until it is taken."""
        self.connects = 0
        """Successful connections so far (for diagnostics and tests)."""
        self.outages = 0
        """Times a healthy socket was lost."""

    def async_start(self) -> None:
        """Connect in the background (and keep reconnecting until stopped)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"Repetier-Server push {self._where}"
            )

    async def async_stop(self) -> None:
        """Close the socket and stop reconnecting."""
        task, self._task = self._task, None
        for pending in (task, self._resync_task):
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
        self._resync_task = None
        self._set_unhealthy()

    def diagnostics(self) -> dict[str, object]:
        """Non-secret facts about the socket."""
        return {
            "push_healthy": self.healthy,
            "push_connects": self.connects,
            "push_outages": self.outages,
        }

    # -- the connection ------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect_and_read()
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                reason = f"{type(err).__name__}: {err}".rstrip(": ")
            except PrinterResponseError as err:
                reason = str(err)
            else:
                reason = self._drop_reason or "the server closed it"
            self._drop_reason = None
            was_healthy = self.healthy
            self._set_unhealthy()
            if was_healthy:
                self.outages += 1
                if self._clock() - self._healthy_since >= STABLE_SECONDS:
                    failures = 0
            self._down_reason = _redact(reason, self._api_key)
            _LOGGER.debug(
                "No push connection to Repetier-Server at %s (%s)",
                self._where,
                self._down_reason,
            )
            if was_healthy:
                self._on_change()  # poll now, not after the long push interval
            delay = self._backoff[min(failures, len(self._backoff) - 1)]
            failures += 1
            await asyncio.sleep(delay)

    async def _connect_and_read(self) -> None:
        url = self._url.with_query({"apikey": self._api_key})
        async with self._session.ws_connect(
            url,
            heartbeat=HEARTBEAT,
            max_msg_size=MAX_FRAME,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
        ) as ws:
            self._ws = ws
            reader = asyncio.get_running_loop().create_task(self._read(ws))
            try:
                await self._resync()
                self.connects += 1
                self.healthy = True
                self._healthy_since = self._clock()
                settled = asyncio.get_running_loop().call_later(
                    STABLE_SECONDS, self._settled
                )
                self._on_change()
                try:
                    await reader
                finally:
                    settled.cancel()
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                self._ws = None

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self._handle(message.data)
            elif message.type is aiohttp.WSMsgType.ERROR:
                break
        # the loop ends when the server closes the socket or it fails

    def note_poll(self, *, answered: bool) -> None:
        """Say how an HTTP poll went while push is down; warn once if push stays down.

        Only a push that stays down while the server answers is worth a warning: a
        server that does not answer at all is the coordinator's outage.
        """
        if self.healthy:
            return
        if not answered:
            self._polled_since = None
            return
        now = self._clock()
        if self._polled_since is None:
            self._polled_since = now
        elif now - self._polled_since >= PUSH_DOWN_GRACE and not self._outage_logged:
            _LOGGER.warning(
                "No push connection to Repetier-Server at %s (%s); polling until it "
                "is back",
                self._where,
                self._down_reason or "not connected yet",
            )
            self._outage_logged = True

    def _settled(self) -> None:
        """The connection has lasted `STABLE_SECONDS`: push is back."""
        self._polled_since = None
        if self._outage_logged:
            _LOGGER.info(
                "Push connection to Repetier-Server at %s is back", self._where
            )
            self._outage_logged = False

    def take_ending(self) -> str | None:
        """How the job that just disappeared ended, if the server said so (once)."""
        ended, self.ended = self.ended, None
        return ended

    def _set_unhealthy(self) -> None:
        self.healthy = False
        self._resync_due = None
        self.ended = None
        for future in self._pending.values():
            if not future.done():
                future.cancel()
        self._pending.clear()

    # -- messages --------------------------------------------------------------

    def _handle(self, text: str) -> None:
        try:
            message = parse_json(text, f"a Repetier-Server push from {self._where}")
        except PrinterResponseError:
            _LOGGER.debug("Ignoring a push from %s that is not JSON", self._where)
            return
        if not isinstance(message, dict):
            return
        callback_id = message.get("callback_id")
        if isinstance(callback_id, int) and callback_id in self._pending:
            future = self._pending.pop(callback_id)
            if not future.done():
                future.set_result(message.get("data"))
            return
        events = message.get("data")
        if not message.get("eventList") or not isinstance(events, list):
            return
        changed = False
        urgent = False
        for event in events[:MAX_EVENTS]:
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                continue
            printer = event.get("printer")
            if printer not in (None, "", self._slug) or event["event"] == "ping":
                continue
            changed = True
            urgent = urgent or event["event"] not in QUIET_EVENTS
            if event["event"] == "jobStarted":
                self.ended = None
            elif (ending := ENDINGS.get(event["event"])) is not None:
                self.ended = ending
        if changed:
            self._schedule_resync(
                RESYNC_SECONDS
                if urgent
                else TEMP_RESYNC_SECONDS
                if self._has_job()
                else IDLE_TEMP_RESYNC_SECONDS
            )

    def _has_job(self) -> bool:
        """Whether the newest `listPrinter` shows a job on this printer."""
        for entry in self.printers or ():
            if entry.get("slug") == self._slug:
                job = entry.get("job")
                return isinstance(job, str) and job not in ("", "none")
        return False

    async def _request(self, action: str) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise aiohttp.ClientConnectionError("the socket is closed")
        callback_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[callback_id] = future
        payload = {
            "action": action,
            "data": {},
            "printer": self._slug,
            "callback_id": callback_id,
        }
        try:
            await ws.send_str(json.dumps(payload, separators=(",", ":")))
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await future
        finally:
            self._pending.pop(callback_id, None)

    async def _resync(self) -> None:
        """Ask for `listPrinter` and `stateList`; keep what is well-formed."""
        self._last_resync = self._clock()
        printers = await self._request("listPrinter")
        states = await self._request("stateList")
        if not isinstance(printers, list) or not isinstance(states, dict):
            raise PrinterResponseError(
                f"Repetier-Server at {self._where} answered the push socket's "
                "listPrinter or stateList with something else"
            )
        self.printers = [p for p in printers if isinstance(p, dict)]  # as polled
        self.states = states

    def _schedule_resync(self, after: float) -> None:
        """Resync `after` seconds after the last one (at once if that has passed).

        An urgent event moves a resync that waits for temperatures forward; a
        quiet one never delays one that is due sooner.
        """
        due = self._last_resync + after
        if self._resync_due is None or due < self._resync_due:
            self._resync_due = due
            self._resync_wake.set()
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.get_running_loop().create_task(
                self._resync_soon(), name=f"Repetier-Server push resync {self._where}"
            )

    async def _resync_soon(self) -> None:
        while (due := self._resync_due) is not None:
            wait = due - self._clock()
            if wait > 0:
                self._resync_wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._resync_wake.wait()
                continue  # due again, or moved forward by an urgent event
            self._resync_due = None
            try:
                await self._resync()
            except aiohttp.ClientError:
                return  # a dead socket: the reader sees it and reconnects
            except (TimeoutError, PrinterResponseError) as err:
                # a socket that stops answering or answers nonsense is no push to
                # rely on: drop it, so the printer is polled until a reconnect
                # answers again (else its entities would stay as they were)
                await self._drop(
                    "no answer in time"
                    if isinstance(err, TimeoutError)
                    else "a wrong answer"
                )
                return
            except asyncio.CancelledError:
                raise
            if self.healthy:
                self._on_change()

    async def _drop(self, reason: str) -> None:
        """Close the socket: `_run` takes it as down (polling) and reconnects."""
        ws = self._ws
        if ws is None or ws.closed:
            return
        self._drop_reason = reason
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            await ws.close()


_KEY_IN_QUERY = re.compile(r"(apikey=)[^&#\s'\"<>)]*", re.IGNORECASE)


def _redact(text: str, secret: str) -> str:
    """`text` without the API key (aiohttp errors can quote the URL).

    The key in every form a URL carries it, and whatever follows `apikey=`.
    """
    return redact_secrets(_KEY_IN_QUERY.sub(r"\1***", text), secret)
