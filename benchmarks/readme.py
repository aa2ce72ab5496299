"""README.md's generated tables, each between two HTML comment markers.

A benchmark writes its table with `--write-readme`; a test regenerates the table
from the stored results (or measures again) and compares it with `block()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


@dataclass(frozen=True)
class Table:
    """One generated table: `name` marks it, `command` writes it."""

    name: str
    command: str

    @property
    def start(self) -> str:
        """The opening marker."""
        return f"<!-- {self.name}-table: written by {self.command} -->"

    @property
    def end(self) -> str:
        """The closing marker."""
        return f"<!-- /{self.name}-table -->"

    def write(self, lines: Sequence[str], path: Path = README) -> bool:
        """Replace the table in `path`; return whether it changed."""
        text = path.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(self.start) + r".*?" + re.escape(self.end), re.S)
        if not pattern.search(text):
            raise ValueError(f"{path} has no {self.start!r} block")
        block = "\n".join([self.start, *lines, self.end])
        new = pattern.sub(lambda _: block, text)
        path.write_text(new, encoding="utf-8")
        return new != text

    def block(self, path: Path = README) -> list[str]:
        """The table as committed (without the markers); [] if it is missing."""
        text = path.read_text(encoding="utf-8")
        match = re.search(
            re.escape(self.start) + r"\n(.*?)\n" + re.escape(self.end), text, re.S
        )
        return match.group(1).split("\n") if match else []


def store_json(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Write a run's stored results (sorted, one key a line); return them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")
    return data


def load_json(path: Path) -> dict[str, Any]:
    """A stored run, as `store_json` wrote it."""
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data
