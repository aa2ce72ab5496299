"""The SDK's lazily loaded modules are imported in the executor, not on the loop."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

SCRIPT = r"""
import asyncio
import json
import sys
import threading
from datetime import UTC, datetime

import httpx

from custom_components.print_sentinel.detection.detectors.openai_compat import (
    OpenAIDetector,
)
from custom_components.print_sentinel.detection.frames import prepare_frame
from simulators.openai_compat import OpenAISimulator
from simulators.scene import Scene, render_frame

KEY = "sk-first-call-0123456789"
on_loop = []


def hook(event, args):
    if (
        event == "import"
        and threading.current_thread() is threading.main_thread()
        and str(args[0]).startswith("openai")
    ):
        on_loop.append(str(args[0]))


async def main():
    sim = OpenAISimulator(api_key=KEY, false_positive_rate=0.0)
    await sim.start()
    try:
        async with httpx.AsyncClient() as client:
            await client.get(sim.root_url)  # Home Assistant's client is warm
            detector = OpenAIDetector(client, KEY, sim.url, "gpt-4.1-nano")
            await detector.async_prepare()  # at set-up
            frame = prepare_frame(
                render_frame(Scene(0, "none"), 640, 360), datetime.now(UTC)
            )
            sys.addaudithook(hook)
            verdict = await detector.async_analyze([frame])
            await detector.async_validate()
    finally:
        await sim.stop()
    print(json.dumps({"kind": verdict.kind.value, "on_loop": on_loop}))


asyncio.run(main())
"""


def test_no_sdk_module_is_imported_on_the_event_loop_after_set_up() -> None:
    """A fresh process: the first check imports nothing of the SDK on the loop.

    It used to spend ~0.6 s there importing `openai.resources` and its types.
    """
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kind"] == "none"
    assert result["on_loop"] == []
