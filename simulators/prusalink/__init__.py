"""A Prusa MK4S running PrusaLink (Buddy firmware 6.x), simulated over loopback.

`flavour="mk3s"` (CLI `--flavour mk3s`) plays the Raspberry Pi PrusaLink 0.8.1 of
an MK3S instead: realm `Administrator`, `qop="auth"`, `MD5-sess`, nonces that live
60-120 s, a separate `X-Api-Key` (`sim.api_key`; a wrong one is 403), its
`/api/version` and `/api/v1/info` shapes, HTTP/1.0 and the rest listed in
`simulators/prusalink/flavour.py`. `await sim.add_listener()` serves the same
printer on one more port (its URL); `RequestRecord.port` tells the two apart.

It speaks what the real firmware speaks, not just the spec (see
`/work/shared/prusalink-spec/README.md`): HTTP Digest (realm `Printer API`, no qop,
nonce valid until reboot) or `X-Api-Key`, the v1 API, the legacy `/api/printer`,
thumbnails under `/thumb/{s,l}/usb/<8.3 name>`, print files under `/usb/<8.3 name>`
(real binary G-code whose metadata pyprusalink's `get_file_metadata` parses), plus an
unauthenticated camera at `/camera/snapshot.jpg` rendering `simulators.scene` frames.

Python API::

    sim = PrusaLinkSimulator(password="pw", serial="10589-3742441634512345",
                             model="MK4S", digest_qop=False, finished_hold=300,
                             print_file_size=0, camera_size=(1280, 720))
    await sim.start(host="127.0.0.1", port=0, control_port=None)
    sim.url, sim.host_port, sim.snapshot_url, sim.control_url
    job_id = sim.start_job(display_name="Benchy_0.4n_0.2mm_PETG_MK4S_2h10m.bgcode",
                           material="PETG", duration=7800)  # also loads PETG
    sim.advance(60)              # simulated clock: progress, times, temperatures;
                                 # a finished job is FINISHED, then IDLE after
                                 # `finished_hold` s; same for STOPPED
    sim.start_ticker(speed=10)   # real-time clock (develop); sim.stop_ticker()
    sim.pause() / resume() / cancel() / continue_job()  # the knob; raise
                                 # JobConflictError / JobNotFoundError
    sim.set_state("ATTENTION")   # any string: ERROR, UNKNOWN, "HEATING_UP", ...
    sim.set_state("IDLE", clear_job=True); sim.idle()
    sim.set_material("---")      # legacy telemetry.material; None means "---"
    sim.reboot()                 # job lost, IDLE, new Digest nonce
    await sim.go_offline(); await sim.come_back()  # refused, then same port
    await sim.power_cycle(downtime=2.0)
    sim.faults.hang = True       # see `Faults`; sim.faults.clear()
    sim.set_old_firmware()       # no version firmware/printer, /continue -> 404
    sim.set_scene(Scene(failure=0, kind="none"))
    sim.script_failure(start=600, kind="spaghetti", score=90, ramp=300)
    sim.current_scene; sim.frame()  # what the camera serves
    sim.requests                 # list[RequestRecord(method, path, status, at)]
    sim.counts()                 # Counter[(method, path, status)], incl. 401s
    sim.count("/api/v1/status", method="GET", status=200); sim.reset_counters()
    await sim.stop()             # or: async with PrusaLinkSimulator() as sim: ...

HTTP control API (JSON, no auth; on `control_url`)::

    GET  /_sim/state                        everything, as JSON
    POST /_sim/idle
    POST /_sim/job       {"display_name", "material", "duration"} (all optional)
    POST /_sim/advance   {"seconds": 60}
    POST /_sim/ticker    {"speed": 1.0, "interval": 1.0}   DELETE /_sim/ticker
    POST /_sim/state     {"state": "ERROR", "clear_job": false}
    POST /_sim/material  {"material": "PETG"}  (null or "---": none loaded)
    POST /_sim/pause | /_sim/resume | /_sim/cancel | /_sim/continue  (409/404)
    POST /_sim/offline   {"seconds": 5}  (without seconds needs a control port)
    POST /_sim/online
    POST /_sim/reboot    {"downtime": 0}
    GET|POST|DELETE /_sim/faults   POST body: {"hang": true, "delay": 2.5, ...}
    POST /_sim/scene     {"failure": 40, "kind": "blob"}
    POST /_sim/failure   {"start": 600, "kind": "spaghetti", "score": 90, "ramp": 300}
    DELETE /_sim/failure
    GET|DELETE /_sim/requests   {"total", "requests": [{method, path, status, count}]}

Going offline closes the printer port, so the control API is then only reachable
on a separate `control_port` (which serves `/_sim` and the camera only); without
one, `/_sim/offline` needs `seconds` to come back by itself.

CLI: `.venv/bin/python -m simulators.prusalink --port 8080 --password pw
--scenario printing [--flavour mk3s] [--serial S]`. Without `--serial` each port
has its own serial, so a second simulator is a second printer.
"""

from __future__ import annotations

from simulators.scene import Scene

from .flavour import FLAVOURS, MK3S, MK4S, Flavour
from .model import FailureScript, Job, JobConflictError, JobNotFoundError, PrinterModel
from .server import DEFAULT_SERIAL, Faults, PrusaLinkSimulator, RequestRecord

__all__ = [
    "DEFAULT_SERIAL",
    "FLAVOURS",
    "MK3S",
    "MK4S",
    "FailureScript",
    "Faults",
    "Flavour",
    "Job",
    "JobConflictError",
    "JobNotFoundError",
    "PrinterModel",
    "PrusaLinkSimulator",
    "RequestRecord",
    "Scene",
]
