"""Firmware families the simulator can play: what differs between them.

`mk4s` is Prusa-Firmware-Buddy's PrusaLink on the printer's own board (MK4/MK4S,
Core One, XL, MINI). `mk3s` is the Raspberry Pi PrusaLink (PyPI `prusalink` 0.8.1,
for MK2.5/MK3/MK3S, on PoorWSGI), as it answered when tried:

- Digest realm `Administrator`, `qop="auth"`, `algorithm="MD5-sess"`, an `opaque`;
  the nonce lives 60 s (valid to the end of the next 60 s window), then `stale=true`;
- `X-Api-Key` is a key of its own (a wrong one: 403 `Bad X-Api-Key.`);
- `/api/version` has no `version` and no `printer`, but `"original": "PrusaLink
  I3MK3S"`; `/api/v1/info` has `name: ""` and `hostname: "connect.prusa3d.com"`;
- `status.storage` is a list; no `job` in `/api/v1/status` while STOPPED (and
  `/api/v1/job` answers 204 then); for some seconds after it starts, telemetry
  fields are missing (the printer has not answered yet);
- `file.name` is the long name, `file.path` starts `/PrusaLink gcodes/`;
- commands answer 204 before they act; `continue` does nothing; a second pause or
  cancel is 409;
- HTTP/1.0, `Connection: close` after every answer.
"""

from __future__ import annotations

from dataclasses import dataclass
import zlib

FLAVOURS = ("mk4s", "mk3s")

MK3S_STORAGE = "PrusaLink gcodes"


@dataclass(frozen=True)
class Flavour:
    """What one firmware family does differently."""

    name: str
    model: str
    realm: str
    digest_qop: bool
    digest_algorithm: str | None
    nonce_lifetime: float | None
    """Seconds a nonce window lasts (None: valid until reboot)."""
    separate_api_key: bool
    version_has_printer: bool
    original: str | None
    storage_as_list: bool
    job_while_stopped: bool
    startup_seconds: float
    """Simulated seconds after start/reboot with telemetry fields missing."""
    long_file_names: bool
    deferred_commands: bool
    """Commands answer 204 and act a moment later."""
    continue_noop: bool
    http10: bool
    server: str
    cloud_hostname: str | None


MK4S = Flavour(
    name="mk4s",
    model="MK4S",
    realm="Printer API",
    digest_qop=False,
    digest_algorithm=None,
    nonce_lifetime=None,
    separate_api_key=False,
    version_has_printer=True,
    original=None,
    storage_as_list=False,
    job_while_stopped=True,
    startup_seconds=0.0,
    long_file_names=False,
    deferred_commands=False,
    continue_noop=False,
    http10=False,
    server="2.1.2",
    cloud_hostname=None,
)

MK3S = Flavour(
    name="mk3s",
    model="MK3S",
    realm="Administrator",
    digest_qop=True,
    digest_algorithm="MD5-sess",
    nonce_lifetime=60.0,
    separate_api_key=True,
    version_has_printer=False,
    original="PrusaLink I3MK3S",
    storage_as_list=True,
    job_while_stopped=False,
    startup_seconds=8.0,
    long_file_names=True,
    deferred_commands=True,
    continue_noop=True,
    http10=True,
    server="0.8.1",
    cloud_hostname="connect.prusa3d.com",
)


def get_flavour(name: str) -> Flavour:
    """Return the flavour called `name` (`mk4s`, `mk3s`); ValueError otherwise."""
    for flavour in (MK4S, MK3S):
        if flavour.name == name.lower():
            return flavour
    raise ValueError(f"unknown flavour {name!r}; one of {', '.join(FLAVOURS)}")


def default_serial(flavour: Flavour, port: int) -> str:
    """A serial of the flavour's shape that differs from port to port.

    Two simulators on two ports are two printers; the same port gives the same
    serial again, so a restarted simulator is the printer already set up.
    """
    if flavour.name == "mk3s":
        return f"CZPX4720X004XC{port:05d}"
    check = zlib.crc32(str(port).encode()) % 10000
    return f"10589-3742441{check:04d}{port:05d}"
