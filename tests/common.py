"""Helpers for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from datetime import timedelta

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.print_sentinel.const import DEFAULT_PRINTING_INTERVAL

NEXT_POLL = DEFAULT_PRINTING_INTERVAL + 0.1
"""Seconds after which a printing printer has been polled again."""


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    *,
    wait: bool = True,
) -> None:
    """Let `seconds` pass in Home Assistant and run what became due.

    With `wait`, also wait for the background work it started (polls over loopback
    are real I/O); without it, a request that never answers does not block the test.
    """
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=wait)


@contextlib.asynccontextmanager
async def answering(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[int]:
    """A loopback HTTP server answering every request with `handler`; its port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
