"""What one config entry (one printer) holds while it runs.

The top of the integration's layers: the setup, the platforms, the services and
diagnostics read it. The parts below (coordinator, detection, records, Prusa
Connect) never import it; they get what they need when they are built, so there is
no import cycle between them and this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .links import EntityLinks

if TYPE_CHECKING:
    from .coordinator import PrinterCoordinator
    from .detection.monitor import DetectionMonitor
    from .printers.base import PrinterBackend, PrinterIdentity
    from .prusa_connect import PrusaConnectUploader
    from .records.recorder import PrintRecorder


@dataclass(kw_only=True)
class PrintSentinelRuntimeData:
    """Everything one config entry (one printer) holds at runtime."""

    backend: PrinterBackend
    identity: PrinterIdentity
    coordinator: PrinterCoordinator
    links: EntityLinks = field(default_factory=EntityLinks)
    monitor: DetectionMonitor | None = None
    connect_uploader: PrusaConnectUploader | None = None
    recorder: PrintRecorder | None = None


type PrintSentinelConfigEntry = ConfigEntry[PrintSentinelRuntimeData]
