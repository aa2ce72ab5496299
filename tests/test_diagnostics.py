"""Diagnostics: everything a bug report needs, nothing secret."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.print_sentinel.const import (
    CONF_CONNECT_CAMERA,
    CONF_CONNECT_ENABLED,
    CONF_CONNECT_FINGERPRINT,
    CONF_CONNECT_TOKEN,
    CONF_CONNECT_URL,
    CONF_DETECTOR,
    CONF_GADGET_API_KEY,
    CONF_GADGET_URL,
    CONF_IDLE_INTERVAL,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_PRINTWATCH_API_KEY,
    CONF_PRINTWATCH_URL,
    CONF_SNAPSHOT_URL,
    DEFAULT_PRINTING_INTERVAL,
    DEFAULT_PRINTWATCH_URL,
    DETECTOR_NONE,
)
from custom_components.print_sentinel.diagnostics import redact_url
from simulators.prusalink import PrusaLinkSimulator

from .conftest import PRINTER_PASSWORD, PRINTER_SERIAL

OPENAI_KEY = "sk-proj-FAKEopenaiKEY0123456789abcdef"
GADGET_KEY = "gadget-FAKE-key-5c8e1d"
PRINTWATCH_KEY = "pw-FAKE-key-77aa01"
CONNECT_TOKEN = "FAKEconnectTOKEN4242"
FINGERPRINT = "f1" * 32
CAMERA_PASSWORD = "cam-FAKE-pass-99"
OLLAMA_PASSWORD = "ollama-FAKE-pw-31"
OLLAMA_HOST = "ollama.lan.example"
GADGET_HOST = "gadget-selfhosted.example"
CONNECT_HOST = "connect-staging.example"


@pytest.fixture
async def diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    printer: PrusaLinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> dict:
    """Diagnostics of a printing printer whose options hold every kind of secret."""
    printer.start_job(
        display_name="Benchy_0.4n_0.2mm_PETG_MK4S_1h0m.bgcode", material="PETG"
    )
    printer.advance(600)
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            CONF_IDLE_INTERVAL: 30,
            # a camera URL with credentials in it
            CONF_SNAPSHOT_URL: f"http://admin:{CAMERA_PASSWORD}@192.0.2.7/snap.jpg",
            CONF_DETECTOR: DETECTOR_NONE,
            CONF_OPENAI_API_KEY: OPENAI_KEY,
            # a self-hosted server behind basic auth
            CONF_OPENAI_BASE_URL: f"http://proxy:{OLLAMA_PASSWORD}@{OLLAMA_HOST}:11434/v1",
            CONF_GADGET_URL: f"https://{GADGET_HOST}",
            CONF_PRINTWATCH_URL: DEFAULT_PRINTWATCH_URL,
            CONF_CONNECT_URL: f"https://{CONNECT_HOST}/",
            CONF_GADGET_API_KEY: GADGET_KEY,
            CONF_PRINTWATCH_API_KEY: PRINTWATCH_KEY,
            CONF_CONNECT_ENABLED: False,
            CONF_CONNECT_TOKEN: CONNECT_TOKEN,
            CONF_CONNECT_FINGERPRINT: FINGERPRINT,
            CONF_CONNECT_CAMERA: "camera.prusa_mk4s_camera",
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)


async def test_diagnostics(diagnostics: dict, snapshot: SnapshotAssertion) -> None:
    assert diagnostics == snapshot


@pytest.mark.parametrize(
    "secret",
    [
        PRINTER_PASSWORD,
        PRINTER_SERIAL,
        OPENAI_KEY,
        GADGET_KEY,
        PRINTWATCH_KEY,
        CONNECT_TOKEN,
        FINGERPRINT,
        "prusa-mk4s",  # the printer's hostname
        "Prusa MK4S",  # the entry's title, also the identity's name
        OLLAMA_PASSWORD,
        OLLAMA_HOST,
        GADGET_HOST,
        CONNECT_HOST,
        "proxy:",  # the user part of the base URL
    ],
)
async def test_diagnostics_redact_secrets(diagnostics: dict, secret: str) -> None:
    assert secret not in json.dumps(diagnostics)


async def test_diagnostics_do_not_reveal_the_printers_address(
    diagnostics: dict, printer: PrusaLinkSimulator
) -> None:
    host, port = printer.host_port
    text = json.dumps(diagnostics)
    assert host not in text
    assert f":{port}" not in text


async def test_diagnostics_redact_the_snapshot_url(diagnostics: dict) -> None:
    assert CAMERA_PASSWORD not in json.dumps(diagnostics)


async def test_diagnostics_show_what_helps_a_bug_report(diagnostics: dict) -> None:
    assert diagnostics["snapshot"]["state"] == "printing"
    assert diagnostics["snapshot"]["job"]["progress"] == 16
    assert diagnostics["identity"]["model"] == "MK4S"
    assert diagnostics["identity"]["firmware"] == "6.5.3+12648"
    assert diagnostics["coordinator"] == {
        "last_update_success": True,
        "update_interval": float(DEFAULT_PRINTING_INTERVAL),
    }


async def test_diagnostics_keep_the_kind_of_url(diagnostics: dict) -> None:
    """A report still says "plain http, self-hosted" and which public service."""
    options = diagnostics["entry"]["options"]
    assert options["openai_base_url"] == "http://**REDACTED**"
    assert options["gadget_url"] == "https://**REDACTED**"
    assert options["printwatch_url"] == DEFAULT_PRINTWATCH_URL
    assert diagnostics["identity"]["name"] == "**REDACTED**"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1/"),
        ("https://user:pw@api.openai.com/v1", "https://**REDACTED**"),
        ("rtsp://10.0.0.9/live", "rtsp://**REDACTED**"),
        ("http://[::1", "**REDACTED**"),
        ("://nothing", "**REDACTED**"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
