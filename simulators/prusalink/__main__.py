"""Run the PrusaLink simulator until Ctrl-C.

    python -m simulators.prusalink --host 127.0.0.1 --port 8080 --password pw \
        [--scenario idle|printing] [--speed 1.0] [--control-port 8081]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import PrusaLinkSimulator

_LOGGER = logging.getLogger("simulators.prusalink")

PRINTING_JOB = "Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode"
PRINTING_DURATION = 2 * 3600 + 10 * 60
PRINT_FILE_SIZE = 1_800_000
"""About what PrusaSlicer writes for a two-hour MK4S print."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators.prusalink",
        description="A Prusa MK4S with PrusaLink, simulated.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--password", default="simulator")
    parser.add_argument("--serial", default=None)
    parser.add_argument("--model", default="MK4S")
    parser.add_argument("--scenario", choices=("idle", "printing"), default="idle")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--control-port",
        type=int,
        default=None,
        help="extra port for /_sim and the camera that stays up while offline",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    """Start the simulator as asked and serve until cancelled."""
    kwargs = {} if args.serial is None else {"serial": args.serial}
    sim = PrusaLinkSimulator(
        password=args.password,
        model=args.model,
        print_file_size=PRINT_FILE_SIZE,
        **kwargs,
    )
    await sim.start(args.host, args.port, control_port=args.control_port)
    if args.scenario == "printing":
        sim.start_job(PRINTING_JOB, material="PETG", duration=PRINTING_DURATION)
    sim.start_ticker(speed=args.speed)
    _LOGGER.info(
        "PrusaLink simulator at %s (user maker), camera %s, control %s/_sim/state",
        sim.url,
        sim.snapshot_url,
        sim.control_url,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()
        _LOGGER.info("PrusaLink simulator stopped")


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
