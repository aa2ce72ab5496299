"""Run the PrusaLink simulator until Ctrl-C.

    .venv/bin/python -m simulators.prusalink --host 127.0.0.1 --port 8080 \
        --password pw [--flavour mk4s|mk3s] [--serial S] \
        [--scenario idle|printing] [--speed 1.0] [--control-port 8081]

Without `--serial`, each port gives its own serial (two simulators are two
printers; the same port is the same printer again after a restart).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .flavour import FLAVOURS, default_serial, get_flavour
from .server import PrusaLinkSimulator

_LOGGER = logging.getLogger("simulators.prusalink")

PRINTING_JOB = "Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode"
PRINTING_JOB_MK3S = "Benchy_0.4n_0.2mm_PETG_MK3S_2h10m.gcode"
PRINTING_DURATION = 2 * 3600 + 10 * 60
PRINT_FILE_SIZE = 1_800_000
"""About what PrusaSlicer writes for a two-hour MK4S print."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators.prusalink",
        description="A Prusa printer with PrusaLink, simulated: an MK4S with "
        "Buddy firmware (--flavour mk4s) or an MK3S with the Raspberry Pi "
        "PrusaLink 0.8.1 (--flavour mk3s).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--password", default="simulator")
    parser.add_argument(
        "--flavour",
        choices=FLAVOURS,
        default="mk4s",
        help="firmware family: mk4s (Buddy, digest nonce until reboot) or mk3s "
        "(Raspberry Pi PrusaLink: realm Administrator, MD5-sess, 60 s nonces, "
        "a separate X-Api-Key, HTTP/1.0)",
    )
    parser.add_argument(
        "--serial",
        default=None,
        help="the printer's serial; default: one of its own for each port, so "
        "a second simulator is a second printer, not 'already set up'",
    )
    parser.add_argument(
        "--model", default=None, help="default: the flavour's (MK4S or MK3S)"
    )
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
    flavour = get_flavour(args.flavour)
    sim = PrusaLinkSimulator(
        password=args.password,
        model=args.model,
        print_file_size=PRINT_FILE_SIZE,
        flavour=flavour,
        serial=args.serial or default_serial(flavour, args.port),
    )
    await sim.start(args.host, args.port, control_port=args.control_port)
    if args.scenario == "printing":
        name = PRINTING_JOB_MK3S if flavour.name == "mk3s" else PRINTING_JOB
        sim.start_job(name, material="PETG", duration=PRINTING_DURATION)
    sim.start_ticker(speed=args.speed)
    _LOGGER.info(
        "PrusaLink simulator (%s, serial %s) at %s (user maker), camera %s, "
        "control %s/_sim/state",
        flavour.name,
        sim.serial,
        sim.url,
        sim.snapshot_url,
        sim.control_url,
    )
    if sim.api_key is not None:
        _LOGGER.info("X-Api-Key (not the password): %s", sim.api_key)
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
