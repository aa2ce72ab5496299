"""Fixtures of the soak: two printers, both detectors and Prusa Connect on loopback.

Every secret the soak later searches the logs and diagnostics for is defined here,
each distinct, so a hit names what leaked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from simulators.gadget import GadgetSimulator
from simulators.openai_compat import OpenAISimulator
from simulators.prusa_connect import PrusaConnectSimulator
from simulators.prusalink import PrusaLinkSimulator

ALPHA_PASSWORD = "soak-Alpha-pw-7f3a91"
BETA_PASSWORD = "soak-Beta-pw-c0ffee42"
ALPHA_SERIAL = "10589-3742441634500001"
BETA_SERIAL = "10589-3742441634500002"
OPENAI_KEY = "sk-soak-0penAI-5e1f9c2b7d"
GADGET_KEY = "gadget-soak-key-9b8c7d6e"
CONNECT_TOKEN = "connect-soak-token-a1b2c3"
CONNECT_FINGERPRINT = "5eaf00d" + "0123456789abcdef" * 3 + "fedcba987"
"""64 hex characters, as the integration generates them."""

SECRETS: dict[str, str] = {
    "alpha printer password": ALPHA_PASSWORD,
    "beta printer password": BETA_PASSWORD,
    "openai api key": OPENAI_KEY,
    "gadget api key": GADGET_KEY,
    "connect token": CONNECT_TOKEN,
    "connect fingerprint": CONNECT_FINGERPRINT,
}

FINISHED_HOLD = 60.0
"""Seconds a finished or stopped job stays on the printer's screen."""


def _prusalink(password: str, serial: str, name: str) -> PrusaLinkSimulator:
    return PrusaLinkSimulator(
        password, serial=serial, name=name, finished_hold=FINISHED_HOLD
    )


@pytest.fixture
async def alpha(socket_enabled: None) -> AsyncGenerator[PrusaLinkSimulator]:
    """Printer one: the OpenAI-compatible detector and Prusa Connect upload."""
    sim = _prusalink(ALPHA_PASSWORD, ALPHA_SERIAL, "Alpha MK4S")
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    sim.faults.clear()
    await sim.stop()


@pytest.fixture
async def beta(socket_enabled: None) -> AsyncGenerator[PrusaLinkSimulator]:
    """Printer two: OctoEverywhere's Gadget detector."""
    sim = _prusalink(BETA_PASSWORD, BETA_SERIAL, "Beta MK4S")
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    sim.faults.clear()
    await sim.stop()


@pytest.fixture
async def vision(socket_enabled: None) -> AsyncGenerator[OpenAISimulator]:
    """The OpenAI-compatible service, with its default noise (3 % false positives)."""
    sim = OpenAISimulator(OPENAI_KEY, seed=11)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def gadget(socket_enabled: None) -> AsyncGenerator[GadgetSimulator]:
    """Gadget, pacing calls by the event loop's (simulated) clock."""
    sim = GadgetSimulator(
        GADGET_KEY, next_interval=30, seed=5, clock=asyncio.get_running_loop().time
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def connect(socket_enabled: None) -> AsyncGenerator[PrusaConnectSimulator]:
    """Prusa Connect's camera API."""
    sim = PrusaConnectSimulator([CONNECT_TOKEN])
    await sim.start()
    yield sim
    await sim.stop()
