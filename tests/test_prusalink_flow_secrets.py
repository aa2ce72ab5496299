"""The PrusaLink form shown after an error sends no typed password or key back."""

from __future__ import annotations

import json
import logging

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.print_sentinel.const import DOMAIN
from simulators.prusalink import PrusaLinkSimulator

TYPED_PASSWORD = "Typed+Secret&pw=#%/?@: ü-4711"
TYPED_KEY = "TypedKey+&=#%/?@:0123456789"


def _form_as_sent(result) -> str:
    """The form as HA's websocket/HTTP view sends it to the browser."""
    # what voluptuous_serialize sends: each field's name, default, suggested value
    schema = [
        {
            "name": str(key),
            "default": str(key.default())
            if callable(getattr(key, "default", None))
            else None,
            "description": dict(key.description or {}),
        }
        for key in result["data_schema"].schema
    ]
    return json.dumps(
        {
            "data_schema": schema,
            "errors": result["errors"],
            "placeholders": result.get("description_placeholders"),
        },
        ensure_ascii=False,
    )


async def test_error_form_carries_no_typed_secret(
    hass: HomeAssistant, printer: PrusaLinkSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "prusalink"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: TYPED_PASSWORD,
            CONF_API_KEY: TYPED_KEY,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"]  # invalid_auth
    sent = _form_as_sent(result)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert TYPED_PASSWORD not in logs and TYPED_KEY not in logs
    assert TYPED_PASSWORD not in sent, sent
    assert TYPED_KEY not in sent, sent


async def test_reconfigure_error_form_carries_no_typed_secret(
    hass: HomeAssistant, printer: PrusaLinkSimulator, init_integration
) -> None:
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_HOST: printer.url,
            CONF_USERNAME: "maker",
            CONF_PASSWORD: TYPED_PASSWORD,
            CONF_API_KEY: TYPED_KEY,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"]
    sent = _form_as_sent(result)
    assert TYPED_PASSWORD not in sent, sent
    assert TYPED_KEY not in sent, sent
