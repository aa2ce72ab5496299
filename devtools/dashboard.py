"""The printer dashboard `scripts/develop` creates (README's screenshot shows it).

Home Assistant 2026.10's default Overview shows areas, not a printer, so the develop
instance gets a storage-mode Lovelace dashboard `/print-sentinel/printer` of the
printer's entities, made the default dashboard on the first run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

URL_PATH = "print-sentinel"
VIEW_PATH = "printer"
TITLE = "3D printer"

PRINTER_ROWS = (
    "sensor.state",
    "sensor.progress",
    "sensor.time_remaining",
    "sensor.nozzle_temperature",
    "sensor.bed_temperature",
    "sensor.material",
    "event.print_job",
)
DETECTION_ROWS = (
    "switch.failure_detection",
    "binary_sensor.failure_detected",
    "sensor.failure_score",
    "sensor.print_quality",
    "sensor.last_check",
    "event.detection",
)
BUTTONS = ("button.pause", "button.resume", "button.cancel")


def entities_by_key(
    registry: Iterable[Mapping[str, Any]], entry_id: str
) -> dict[str, str]:
    """Map `<platform>.<translation_key>` to entity ids for one config entry."""
    return {
        f"{item['entity_id'].split('.')[0]}.{item['translation_key']}": str(
            item["entity_id"]
        )
        for item in registry
        if item.get("config_entry_id") == entry_id and item.get("translation_key")
    }


def dashboard_config(entities: Mapping[str, str], printer_title: str) -> dict[str, Any]:
    """Return the Lovelace config: camera, buttons, job name, printer, detection."""
    cards: list[dict[str, Any]] = []
    if "camera.camera" in entities:
        cards.append(
            {
                "type": "picture-entity",
                "entity": entities["camera.camera"],
                "camera_view": "auto",
                "show_state": False,
            }
        )
    buttons = [key for key in BUTTONS if key in entities]
    if buttons:
        cards.append(
            {
                "type": "grid",
                "columns": 3,
                "square": False,
                "cards": [
                    {"type": "button", "entity": entities[key], "show_state": False}
                    for key in buttons
                ],
            }
        )
    if "sensor.job_name" in entities:
        # a tile has room for a long file name
        cards.append({"type": "tile", "entity": entities["sensor.job_name"]})
    cards.append(
        {
            "type": "entities",
            "title": printer_title,
            "entities": [entities[key] for key in PRINTER_ROWS if key in entities],
        }
    )
    # failure detection's entities exist once a detector is configured
    detection = [entities[key] for key in DETECTION_ROWS if key in entities]
    if detection:
        cards.append(
            {"type": "entities", "title": "Failure detection", "entities": detection}
        )
    return {
        "title": TITLE,
        "views": [{"title": printer_title, "path": VIEW_PATH, "cards": cards}],
    }
