"""Print records in the media browser: printers, then prints, then their files.

Identifiers: `<entry_id>` (a printer's prints, newest first),
`<entry_id>/<record_id>` (a print's timelapse, chart and flagged frames) and
`<entry_id>/<record_id>/<file>` (one playable file).
"""

from __future__ import annotations

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .records.chart import parse_time
from .records.http import content_type
from .records.recorder import file_url, records_root
from .records.store import PrintRecord, RecordStore, safe_name

OUTCOME_TITLES = {
    "finished": "finished",
    "cancelled": "cancelled",
    "failed": "failed",
    "paused_by_sentinel": "paused by Print Sentinel",
    "interrupted": "interrupted",
    None: "printing",
}


async def async_get_media_source(hass: HomeAssistant) -> PrintRecordsSource:
    """Set up the print records media source."""
    return PrintRecordsSource(hass)


def _media_class(name: str) -> MediaClass:
    return MediaClass.VIDEO if name.endswith(".mp4") else MediaClass.IMAGE


def print_title(summary: dict[str, object]) -> str:
    """Return a print's title: date, file and outcome."""
    started = parse_time(summary.get("started"))
    when = dt_util.as_local(started).strftime("%Y-%m-%d %H:%M") if started else "?"
    outcome = OUTCOME_TITLES.get(
        summary.get("outcome"),  # type: ignore[call-overload]
        str(summary.get("outcome")),
    )
    return f"{when} · {summary.get('file_name') or 'print'} · {outcome}"


def record_files(record: PrintRecord) -> list[tuple[str, str]]:
    """Return a record's files with their titles: timelapse, chart, flagged."""
    files: list[tuple[str, str]] = []
    if record.timelapse:
        files.append((record.timelapse, f"Timelapse ({record.timelapse_format})"))
    if record.chart:
        files.append((record.chart, "Detection timeline"))
    files.extend(
        (name, f"Flagged frame {number}")
        for number, name in enumerate(record.flagged, start=1)
    )
    return files


class PrintRecordsSource(MediaSource):
    """The records of every printer."""

    name = "Print Sentinel"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise."""
        super().__init__(DOMAIN)
        self.hass = hass

    def _store(self, entry_id: str) -> RecordStore:
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or not safe_name(entry_id):
            raise Unresolvable(f"Unknown printer {entry_id}")
        return RecordStore(records_root(self.hass, entry_id))

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Resolve a record's file to its URL."""
        parts = (item.identifier or "").split("/")
        if len(parts) != 3:
            raise Unresolvable(f"Not a record file: {item.identifier}")
        entry_id, record_id, name = parts
        store = self._store(entry_id)
        path = await self.hass.async_add_executor_job(store.file, record_id, name)
        if path is None or name.endswith(".json"):
            raise Unresolvable(f"No such record file: {item.identifier}")
        return PlayMedia(
            file_url(entry_id, record_id, name), content_type(name), path=path
        )

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse printers, their prints, a print's files."""
        parts = [p for p in (item.identifier or "").split("/") if p]
        try:
            if not parts:
                return await self._browse_root()
            if len(parts) == 1:
                return await self._browse_printer(parts[0])
            if len(parts) == 2:
                return await self._browse_print(parts[0], parts[1])
        except Unresolvable as err:
            raise BrowseError(str(err)) from err
        raise BrowseError(f"Unknown item {item.identifier}")

    async def _browse_root(self) -> BrowseMediaSource:
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=entry.entry_id,
                media_class=MediaClass.DIRECTORY,
                media_content_type="",
                title=entry.title,
                can_play=False,
                can_expand=True,
            )
            for entry in self.hass.config_entries.async_entries(DOMAIN)
        ]
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=None,
            media_class=MediaClass.APP,
            media_content_type="",
            title=self.name,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
            children=children,
        )

    async def _browse_printer(self, entry_id: str) -> BrowseMediaSource:
        store = self._store(entry_id)
        index = await self.hass.async_add_executor_job(store.index)
        entry = self.hass.config_entries.async_get_entry(entry_id)
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=f"{entry_id}/{summary['id']}",
                media_class=MediaClass.DIRECTORY,
                media_content_type="",
                title=print_title(summary),
                can_play=False,
                can_expand=True,
            )
            for summary in index
        ]
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=entry_id,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=entry.title if entry else entry_id,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
            children=children,
        )

    async def _browse_print(self, entry_id: str, record_id: str) -> BrowseMediaSource:
        store = self._store(entry_id)
        record = await self.hass.async_add_executor_job(store.read, record_id)
        if record is None:
            raise Unresolvable(f"Unknown print {record_id}")
        thumbnail = (
            file_url(entry_id, record_id, record.chart) if record.chart else None
        )
        children = [
            BrowseMediaSource(
                domain=DOMAIN,
                identifier=f"{entry_id}/{record_id}/{name}",
                media_class=_media_class(name),
                media_content_type=content_type(name),
                title=title,
                can_play=True,
                can_expand=False,
                thumbnail=(
                    file_url(entry_id, record_id, name)
                    if not name.endswith(".mp4")
                    else thumbnail
                ),
            )
            for name, title in record_files(record)
        ]
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{entry_id}/{record_id}",
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=print_title(record.summary(0)),
            can_play=False,
            can_expand=True,
            thumbnail=thumbnail,
            children=children,
        )
