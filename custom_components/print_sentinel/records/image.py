"""The image entity of the last print's detection timeline chart."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from ..entity import attach_to_device
from ..runtime import PrintSentinelConfigEntry
from .chart import parse_time
from .recorder import PrintRecorder

CHART = ImageEntityDescription(
    key="last_print_chart", translation_key="last_print_chart"
)


@callback
def async_setup_record_images(
    hass: HomeAssistant,
    entry: PrintSentinelConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the chart image of a printer that records its prints."""
    if (recorder := entry.runtime_data.recorder) is not None:
        async_add_entities([RecordChartImage(hass, recorder)])


class RecordChartImage(ImageEntity):
    """The detection timeline chart of the last print (or of a paused one)."""

    _attr_content_type = "image/png"
    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hass: HomeAssistant, recorder: PrintRecorder) -> None:
        """Initialise."""
        super().__init__(hass)
        self.recorder = recorder
        self.entity_description = CHART
        identity = recorder.coordinator.identity
        self._attr_unique_id = f"{identity.unique_id}_{CHART.key}"
        attach_to_device(self, hass, identity)
        self._update()

    def _update(self, when: datetime | None = None) -> None:
        record = self.recorder.last_record
        if record is not None and when is None:
            when = parse_time(record.ended) or parse_time(record.started)
        self._attr_image_last_updated = when if record is not None else None
        self._cached_image = None

    @callback
    def _handle_change(self) -> None:
        """A chart was drawn (a print ended or was paused): show it."""
        self._update(dt_util.utcnow())
        self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Follow the recorder; tell automations which entity this is."""
        await super().async_added_to_hass()
        self.recorder.links.chart_entity_id = self.entity_id
        self.async_on_remove(self.recorder.async_add_listener(self._handle_change))

    @property
    def entity_picture(self) -> str | None:
        """No picture (and no HTTP 500 from the image proxy) before the first chart."""
        record = self.recorder.last_record
        if record is None or not record.chart:
            return None
        return super().entity_picture

    async def async_image(self) -> bytes | None:
        """Return the chart PNG."""
        record = self.recorder.last_record
        if record is None or not record.chart:
            return None
        store, name = self.recorder.store, record.chart

        def read() -> bytes | None:
            path = store.file(record.id, name)
            return path.read_bytes() if path is not None else None

        return await self.hass.async_add_executor_job(read)
