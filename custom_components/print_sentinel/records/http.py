"""The HTTP view that serves record files to the frontend (media browser, apps)."""

from __future__ import annotations

from http import HTTPStatus
import mimetypes

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from ..const import DOMAIN
from .recorder import URL, records_root
from .store import RecordStore, safe_name

_VIEW_KEY = f"{DOMAIN}_records_view"
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


def content_type(name: str) -> str:
    """Return the MIME type of a record file."""
    for suffix, mime in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return mime
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@callback
def async_register_view(hass: HomeAssistant) -> None:
    """Register the view once."""
    if not hass.data.get(_VIEW_KEY):
        hass.data[_VIEW_KEY] = True
        hass.http.register_view(RecordFileView())


class RecordFileView(HomeAssistantView):
    """Serve a timelapse, a chart or a flagged frame of a print record."""

    url = URL
    name = f"api:{DOMAIN}:records"
    requires_auth = True

    async def get(
        self, request: web.Request, entry_id: str, record_id: str, name: str
    ) -> web.StreamResponse:
        """Return the file, or 404 for anything that is not one."""
        hass = request.app[KEY_HASS]
        if (
            not safe_name(entry_id)
            or not name.endswith(tuple(CONTENT_TYPES))
            or (entry := hass.config_entries.async_get_entry(entry_id)) is None
            or entry.domain != DOMAIN
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        store = RecordStore(records_root(hass, entry_id))
        path = await hass.async_add_executor_job(store.file, record_id, name)
        if path is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": content_type(name),
                "Cache-Control": "private, max-age=3600",
            },
        )
