"""Print records on disk: one folder per print, a JSON index, and the caps.

Layout under `<config>/print_sentinel/records/<entry_id>/`::

    index.json                  summaries of every record, newest first
    <print_id>/record.json      the record: job, outcome, timeline, files
    <print_id>/frames/000001.jpg  timelapse frames while the print runs
    <print_id>/flagged_01.jpg   frames that raised a warning or failure
    <print_id>/timelapse.mp4|webp, <print_id>/chart.png

Everything here is blocking file work: Home Assistant callers run it in the
executor. Nothing in this module imports Home Assistant.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, fields
import json
import os
from pathlib import Path
import re
import shutil
from typing import Any, Final
import uuid

INDEX_FILE: Final = "index.json"
RECORD_FILE: Final = "record.json"
FRAMES_DIR: Final = "frames"
_SAFE_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")


class StorageError(Exception):
    """A record could not be written (disk full, permissions, I/O error)."""


def safe_name(name: str) -> bool:
    """Whether `name` is a plain file or folder name (no path, no traversal)."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


@dataclass(kw_only=True)
class PrintRecord:
    """What Print Sentinel kept of one print."""

    id: str
    job_id: str | None = None
    file_name: str | None = None
    started: str
    """ISO 8601, UTC."""
    ended: str | None = None
    outcome: str | None = None
    """None while the print runs; then one of the `OUTCOME_*` constants."""
    duration_s: float | None = None
    material: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    frames: int = 0
    """Timelapse frames on disk."""
    frame_interval: float | None = None
    """Seconds between frames (after thinning); None for per-layer frames."""
    timelapse: str | None = None
    timelapse_format: str | None = None
    """"mp4" (ffmpeg) or "webp" (Pillow)."""
    chart: str | None = None
    recording_stopped: str | None = None
    """Why recording stopped during this print (disk full, write error), if it did."""

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-friendly data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrintRecord:
        """Build a record from stored data, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def summary(self, size_bytes: int) -> dict[str, Any]:
        """Return what the index keeps of the record."""
        return {
            "id": self.id,
            "file_name": self.file_name,
            "started": self.started,
            "ended": self.ended,
            "outcome": self.outcome,
            "size": size_bytes,
        }


def _write_json(path: Path, data: object) -> None:
    """Write JSON atomically (a crash leaves the old file, never half a file).

    Each write has a temporary file of its own: two writers of one file (a
    recorder still finishing after a reload, beside the new one) never move each
    other's file away; the last one wins.
    """
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except (OSError, ValueError) as err:  # ValueError: text no UTF-8 can hold
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path.name}: {err}") from err


def _folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                continue
    return total


class RecordStore:
    """The records of one printer (one config entry)."""

    def __init__(self, root: Path) -> None:
        """Use `root` (created on the first write)."""
        self.root = root

    # --- paths ------------------------------------------------------------

    def folder(self, print_id: str) -> Path:
        """Return the folder of a record; ValueError for an unsafe id."""
        if not safe_name(print_id):
            raise ValueError(f"invalid record id {print_id!r}")
        return self.root / print_id

    def file(self, print_id: str, name: str) -> Path | None:
        """Return an existing file of a record, or None (also for unsafe names)."""
        if not safe_name(print_id) or not safe_name(name):
            return None
        path = self.root / print_id / name
        return path if path.is_file() else None

    def frames_dir(self, print_id: str) -> Path:
        """Return the folder of a record's timelapse frames."""
        return self.folder(print_id) / FRAMES_DIR

    # --- records ----------------------------------------------------------

    def read(self, print_id: str) -> PrintRecord | None:
        """Return a stored record, or None if it is missing or unreadable."""
        if not safe_name(print_id):
            return None
        try:
            data = json.loads(
                (self.root / print_id / RECORD_FILE).read_text(encoding="utf-8")
            )
            return PrintRecord.from_dict(data)
        except OSError, ValueError, TypeError:
            return None

    def save(self, record: PrintRecord) -> None:
        """Write a record and its index entry; StorageError if that fails."""
        folder = self.folder(record.id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"cannot create {folder.name}: {err}") from err
        _write_json(folder / RECORD_FILE, record.as_dict())
        index = [e for e in self.index() if e.get("id") != record.id]
        index.append(record.summary(_folder_size(folder)))
        self._write_index(index)

    def index(self) -> list[dict[str, Any]]:
        """Return the summaries of every record, newest first.

        A missing or damaged index is rebuilt from the record folders, so records
        survive a crash during a write.
        """
        try:
            data = json.loads((self.root / INDEX_FILE).read_text(encoding="utf-8"))
            if isinstance(data, list) and all(
                isinstance(e, dict) and safe_name(str(e.get("id", ""))) for e in data
            ):
                return _newest_first(data)
        except OSError, ValueError:
            pass
        return self._rebuild_index()

    def _rebuild_index(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        if not self.root.is_dir():
            return entries
        entries.extend(
            record.summary(_folder_size(child))
            for child in self.root.iterdir()
            if child.is_dir() and (record := self.read(child.name)) is not None
        )
        return _newest_first(entries)

    def _write_index(self, entries: list[dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_json(self.root / INDEX_FILE, _newest_first(entries))

    def refresh_size(self, print_id: str) -> None:
        """Update the index's size of one record (after frames were added)."""
        index = self.index()
        for entry in index:
            if entry.get("id") == print_id:
                entry["size"] = _folder_size(self.folder(print_id))
        self._write_index(index)

    def delete(self, print_id: str) -> None:
        """Delete a record and its files."""
        shutil.rmtree(self.folder(print_id), ignore_errors=True)
        self._write_index([e for e in self.index() if e.get("id") != print_id])

    def enforce_caps(
        self, keep: int, max_bytes: int, protect: str | None = None
    ) -> list[str]:
        """Delete the oldest records until at most `keep` and `max_bytes` remain.

        The record `protect` (the print running now) is never deleted. Sizes are
        measured on disk, not taken from the index, so the caps hold even after
        files were added outside the index. Returns the deleted ids, oldest first.
        """
        index = self.index()
        for entry in index:
            entry["size"] = _folder_size(self.root / entry["id"])
        deleted: list[str] = []
        total = sum(e["size"] for e in index)
        candidates = [e for e in reversed(index) if e["id"] != protect]
        count = len(index)
        for entry in candidates:
            if count <= keep and total <= max_bytes:
                break
            shutil.rmtree(self.root / entry["id"], ignore_errors=True)
            deleted.append(entry["id"])
            total -= entry["size"]
            count -= 1
        if deleted or index:
            self._write_index([e for e in index if e["id"] not in deleted])
        return deleted

    def total_bytes(self) -> int:
        """Return the bytes every record of this printer takes on disk."""
        return _folder_size(self.root) if self.root.is_dir() else 0

    def free_bytes(self) -> int:
        """Return the free bytes on the disk the records are on."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        return shutil.disk_usage(path).free


def _newest_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        entries,
        key=lambda e: (str(e.get("started") or ""), str(e.get("id"))),
        reverse=True,
    )
