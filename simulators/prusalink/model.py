"""The simulated printer: state, job and a deterministic clock (no I/O).

States are PrusaLink's strings (`IDLE`, `PRINTING`, ...), and any other string
(`UNKNOWN`, `HEATING_UP`) is accepted as a firmware might send it. Only `PRINTING`
moves a job on; a finished or stopped job stays visible (`FINISHED` / `STOPPED`) for
`finished_hold` simulated seconds, then the printer is `IDLE` without a job, as the
MK4 does once the result screen is dismissed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from simulators.scene import KINDS, Scene

from .printfile import (
    PrintFileSpec,
    build_print_file,
    material_temperatures,
    short_name,
)

AMBIENT = 23.8
NO_MATERIAL = "---"
FIRST_JOB_ID = 260
M_TIMESTAMP_EPOCH = 1_767_225_600
"""2026-01-01T00:00:00Z: `m_timestamp` of files is this plus the simulated clock."""

ACTIVE = frozenset({"PRINTING", "PAUSED", "ATTENTION"})
"""States in which a job can be cancelled."""
DONE = frozenset({"FINISHED", "STOPPED"})


class JobNotFoundError(Exception):
    """No current job has the requested id (HTTP 404)."""


class JobConflictError(Exception):
    """The printer's state does not allow the command (HTTP 409)."""


@dataclass
class StoredFile:
    """A print file on the printer's USB stick."""

    spec: PrintFileSpec
    name: str
    """The FAT 8.3 alias, e.g. `BENCHY~1.BGC`."""
    m_timestamp: int
    data: bytes

    @property
    def download_path(self) -> str:
        """Return the path the firmware serves the file at."""
        return f"/usb/{self.name}"

    @property
    def icon_path(self) -> str:
        """Return the path of the 16x16 icon."""
        return f"/thumb/s/usb/{self.name}"

    @property
    def thumbnail_path(self) -> str:
        """Return the path of the large thumbnail."""
        return f"/thumb/l/usb/{self.name}"


@dataclass
class Job:
    """The job the printer works on."""

    id: int
    file: StoredFile
    duration: int
    time_printing: float = 0.0

    @property
    def progress(self) -> float:
        """Return percent done, in whole percent as the firmware reports (M73)."""
        if self.duration <= 0:
            return 100.0
        return float(min(100, math.floor(100 * self.time_printing / self.duration)))

    @property
    def time_remaining(self) -> int:
        """Return seconds left."""
        return max(0, math.ceil(self.duration - self.time_printing))


@dataclass(frozen=True)
class FailureScript:
    """A print that goes bad: from print second `start`, kind `kind` grows to `score`."""

    start: float
    kind: str
    score: int
    ramp: float = 300.0
    """Seconds from first sign to full `score`."""


@dataclass
class PrinterModel:
    """State of one simulated Prusa printer."""

    finished_hold: float = 300.0
    print_file_size: int = 0
    """Bytes a job's print file should weigh (0: small); see `PrintFileSpec.size`."""
    state: str = "IDLE"
    job: Job | None = None
    material: str = NO_MATERIAL
    clock: float = 0.0
    state_since: float = 0.0
    scene: Scene = field(default_factory=lambda: Scene(failure=0))
    failure: FailureScript | None = None
    files: dict[str, StoredFile] = field(default_factory=dict)
    next_job_id: int = FIRST_JOB_ID
    _nozzle_from: float = AMBIENT
    _bed_from: float = AMBIENT

    # --- scenario control -------------------------------------------------

    def set_state(self, state: str, *, clear_job: bool = False) -> None:
        """Put the printer in any state string; optionally drop the job."""
        self._remember_temperatures()
        self.state = state
        self.state_since = self.clock
        if clear_job:
            self.job = None

    def idle(self) -> None:
        """Drop any job and go IDLE."""
        self.set_state("IDLE", clear_job=True)

    def start_job(
        self, display_name: str, material: str = "PLA", duration: int = 3600
    ) -> Job:
        """Put a print file on the USB stick and start printing it."""
        if duration <= 0:
            raise ValueError("duration must be positive")
        spec = PrintFileSpec(
            display_name=display_name,
            material=material,
            duration=duration,
            size=self.print_file_size,
        )
        name = short_name(display_name)
        stored = StoredFile(
            spec=spec,
            name=name,
            m_timestamp=M_TIMESTAMP_EPOCH + int(self.clock),
            data=build_print_file(spec),
        )
        self.files[name] = stored
        self.job = Job(id=self.next_job_id, file=stored, duration=duration)
        self.next_job_id += 1
        self.material = material
        self.set_state("PRINTING")
        return self.job

    def reboot(self) -> None:
        """Lose the job, as a printer that restarted mid-print does."""
        self.set_state("IDLE", clear_job=True)  # heaters off, still warm

    def advance(self, seconds: float) -> None:
        """Move the simulated clock on; a PRINTING job makes progress."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        start = self.clock
        self.clock += seconds
        job = self.job
        if self.state == "PRINTING" and job is not None:
            before = job.time_printing
            job.time_printing = min(float(job.duration), before + seconds)
            if job.time_printing >= job.duration:
                self.set_state("FINISHED")
                self.state_since = start + (job.duration - before)
        if self.state in DONE and self.clock - self.state_since >= self.finished_hold:
            self.idle()

    # --- job commands (the HTTP API) ----------------------------------------

    def _job(self, job_id: int) -> Job:
        if self.job is None or self.job.id != job_id:
            raise JobNotFoundError(job_id)
        return self.job

    def pause(self, job_id: int) -> None:
        """Pause a printing job."""
        self._job(job_id)
        if self.state != "PRINTING":
            raise JobConflictError(self.state)
        self.set_state("PAUSED")

    def resume(self, job_id: int) -> None:
        """Resume a paused job."""
        self._job(job_id)
        if self.state != "PAUSED":
            raise JobConflictError(self.state)
        self.set_state("PRINTING")

    def continue_(self, job_id: int) -> None:
        """Acknowledge ATTENTION so the job goes on."""
        self._job(job_id)
        if self.state != "ATTENTION":
            raise JobConflictError(self.state)
        self.set_state("PRINTING")

    def cancel(self, job_id: int) -> None:
        """Stop a printing, paused or attention-waiting job."""
        self._job(job_id)
        if self.state not in ACTIVE:
            raise JobConflictError(self.state)
        self.set_state("STOPPED")

    # --- telemetry ----------------------------------------------------------

    @property
    def heating(self) -> bool:
        """Return True while heaters hold the job's temperatures."""
        return self.job is not None and self.state in {
            "PRINTING",
            "PAUSED",
            "ATTENTION",
        }

    def targets(self) -> tuple[float, float]:
        """Return (nozzle, bed) target temperatures."""
        if not self.heating or self.job is None:
            return 0.0, 0.0
        return material_temperatures(self.job.file.spec.material)

    def _remember_temperatures(self) -> None:
        self._nozzle_from, self._bed_from = self.temperatures()

    def temperatures(self) -> tuple[float, float]:
        """Return (nozzle, bed) actual temperatures, deterministic in the clock."""
        since = self.clock - self.state_since
        nozzle_target, bed_target = self.targets()
        wobble = 0.3 * math.sin(self.clock / 7.0)
        if self.heating:
            # heat up quickly towards target, then hold it within a few tenths
            nozzle = nozzle_target - (nozzle_target - self._nozzle_from) * math.exp(
                -since / 30.0
            )
            bed = bed_target - (bed_target - self._bed_from) * math.exp(-since / 90.0)
            return round(nozzle + wobble, 1), round(bed + wobble / 3, 1)
        nozzle = AMBIENT + (self._nozzle_from - AMBIENT) * math.exp(-since / 120.0)
        bed = AMBIENT + (self._bed_from - AMBIENT) * math.exp(-since / 600.0)
        return round(nozzle, 1), round(bed, 1)

    def z_height(self) -> float:
        """Return the nozzle's height: the layer being printed, or parked."""
        job = self.job
        if job is None:
            return 0.0
        spec = job.file.spec
        layers = max(1, round(spec.max_layer_z / spec.layer_height))
        layer = min(layers, 1 + math.floor(layers * job.progress / 100))
        return round(layer * spec.layer_height, 2)

    def current_scene(self) -> Scene:
        """Return what the camera sees now: the base scene, or the scripted failure."""
        script, job = self.failure, self.job
        if script is None or job is None or job.time_printing < script.start:
            return self.scene
        grown = job.time_printing - script.start
        fraction = 1.0 if script.ramp <= 0 else min(1.0, grown / script.ramp)
        failure = max(self.scene.failure, round(script.score * fraction))
        return Scene(failure=failure, kind=script.kind)

    def script_failure(
        self, *, start: float, kind: str, score: int, ramp: float = 300.0
    ) -> None:
        """Make the print go bad from print second `start` on."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if not 0 <= score <= 100:
            raise ValueError("score must be 0-100")
        self.failure = FailureScript(start=start, kind=kind, score=score, ramp=ramp)
