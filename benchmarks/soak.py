"""The fault-injection soak, long profile: hours of printing through every fault.

Runs `tests/soak` (pytest, a test Home Assistant with simulated time) with
`PRINT_SENTINEL_SOAK=long`: two simulated printers (OpenAI-compatible detector plus
Prusa Connect upload; Gadget) print four cycles of good and failing jobs while
printer, camera, detector and Connect faults come and go, then prints the figures,
one a line (`soak.<name>: value unit (target: ...)`), as `tests/soak/test_soak.py`
writes them to `out/soak.txt`.

Run: `python -m benchmarks.soak` (2-4 minutes; the exit status is pytest's: 0 when
every target holds). `--ci` runs the short CI profile instead; `--frames N` traces
memory with N frames per allocation (`out/soak-memory.txt` names the growth).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "out" / "soak.txt"
TIMEOUT = 15 * 60
"""Seconds after which the run is stopped: the soak must stop by itself long before."""


def main(argv: list[str] | None = None) -> int:
    """Run the soak through pytest and print its figures; return pytest's status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ci", action="store_true", help="the short CI profile instead of the long one"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=None,
        help="trace memory with this many frames per allocation (0: off)",
    )
    args = parser.parse_args(argv)
    env = {**os.environ, "PRINT_SENTINEL_SOAK": "ci" if args.ci else "long"}
    if args.frames is not None:
        env["PRINT_SENTINEL_SOAK_FRAMES"] = str(args.frames)
    python = ROOT / ".venv" / "bin" / "python"
    command = [
        str(python if python.exists() else sys.executable),
        "-m",
        "pytest",
        "tests/soak",
        "-m",
        "slow",
        "-s",
        "-q",
        "-p",
        "no:randomly",
    ]
    REPORT.unlink(missing_ok=True)
    try:
        result = subprocess.run(
            command,
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        print(f"soak.error: no result within {TIMEOUT} s", file=sys.stderr)
        return 2
    if REPORT.exists():
        print(REPORT.read_text(encoding="utf-8"), end="")
    else:
        print(result.stdout[-4000:])
    if result.returncode != 0:
        # pytest's own summary: which targets were missed (or why it did not run)
        tail = [line for line in result.stdout.splitlines() if line.startswith("E ")]
        print("\n".join(tail[-40:]) or result.stdout[-2000:], file=sys.stderr)
        print(result.stderr[-2000:], file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
