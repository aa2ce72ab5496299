"""Config flow steps for printers on a Repetier-Server.

`RepetierFlowMixin` holds the Repetier steps of `PrintSentinelConfigFlow` (see
`printer_types`), so each printer family's flow stays in its own module. One
Repetier-Server drives several printers; Print Sentinel makes one config entry per
printer (one device, one coordinator, one detector each):

1. `repetier`: host, port and API key; `async_list_printers` validates all three
   (`/printer/info` proves it is Repetier-Server, `listPrinter` proves the key);
2. `repetier_printer`: a select of the server's printers that are not set up yet.
   The step is shown even when only one printer is left: the user sees which
   printer is added (and that it is offline) before the entry exists, and the flow
   has one path instead of two. When every printer is set up the flow aborts with
   `no_printers`;
3. `repetier_webcam`, only when the picked printer has webcams in the server's
   configuration (`getPrinterConfig`): "No camera" or webcam 1..n, the first by
   default. The entry stores the 0-based index as `webcam` (None for no camera; a
   printer without webcams gets None too). Entries from before this step have no
   `webcam` key and keep showing webcam 0, if the printer has one.

The unique id is `<server uuid>_<slug>`, what `RepetierBackend.async_get_identity`
returns, so a printer keeps its entry when the server moves to another address.
(A server that sends no `serveruuid` falls back to `<host>_<port>` as its id; such
an entry cannot be moved by reconfigure, which then aborts with `wrong_printer`.)

Reconfigure (new host, port, key) and reauth (new key) check that the same server
still has the same printer before they touch the entry. Reconfigure then offers the
webcam choice again (the entry's choice preselected), so a webcam added later can be
picked. The API key is never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import ipaddress
import re
from typing import Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from .const import (
    CONF_PRINTER_SLUG,
    CONF_PRINTER_TYPE,
    CONF_WEBCAM,
    DEFAULT_REPETIER_PORT,
    LOGGER,
    PRINTER_TYPE_REPETIER,
)
from .flow_base import PASSWORD_SELECTOR, FlowBase
from .printers.base import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterError,
    PrinterResponseError,
)
from .printers.repetier import RepetierBackend, RepetierPrinterInfo, async_list_printers
from .validation import validate_hostname

OFFLINE_SUFFIX = " (offline)"
"""Appended to the label of a printer the server is not connected to."""
NO_WEBCAM = "none"
"""The webcam select's value for "no camera" (the others are 0-based indexes)."""


@dataclass(frozen=True, kw_only=True)
class RepetierServer:
    """A validated Repetier-Server: where it is, its key and its printers."""

    host: str
    port: int
    api_key: str
    printers: list[RepetierPrinterInfo]

    def printer(self, slug: str) -> RepetierPrinterInfo | None:
        """Return the printer with `slug`, or None."""
        return next((p for p in self.printers if p.slug == slug), None)


def repetier_unique_id(server_id: str, slug: str) -> str:
    """Return a Repetier printer's unique id (as `RepetierBackend` reports it)."""
    return f"{server_id}_{slug}"


_NETLOC: Final = re.compile(r"^(?P<host>\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?$")
_MAX_HOST_TEXT: Final = 2000
"""Longer text in the host field is no address (a URL with a long path is fine)."""
_MAX_API_KEY: Final = 512
"""Longer text is no Repetier-Server API key (they are UUIDs)."""


def _valid_hostname(host: str) -> bool:
    """Return True for a DNS name (internationalised names included).

    The same rule as every other address field (`validation.validate_hostname`):
    IDNA 2008 as the HTTP client applies it, no all-numeric name (999.1.1.1).
    """
    try:
        validate_hostname(host)
    except ValueError:
        return False
    return True


def parse_address(text: str, port: int) -> tuple[str, int] | str:
    """Return host and port from what the user typed, or the form error key.

    Accepts a hostname or IP address, `host:port`, a bracketed or bare IPv6 address,
    or a URL copied from the browser (`http://host:3344/#/...`); a port in the text
    wins over the port field. Only `http` URLs: the backend speaks plain HTTP.
    Returns `invalid_port` for a port that is no number from 1 to 65535,
    `https_unsupported` for an https URL and `invalid_host` for anything else that
    is no address; never raises.
    """
    text = text.strip()
    if (
        not text
        or len(text) > _MAX_HOST_TEXT
        or any(char.isspace() or not char.isprintable() for char in text)
    ):
        return "invalid_host"
    if "://" not in text:
        if text.count(":") > 1 and not text.startswith("["):
            text = f"[{text}]"  # a bare IPv6 address
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "invalid_host"
    match = _NETLOC.match(parts.netloc)
    if parts.scheme.lower() == "https" and match is not None and match["host"]:
        return "https_unsupported"
    if parts.scheme.lower() != "http" or "@" in parts.netloc or match is None:
        return "invalid_host"
    host, port_text = match["host"], match["port"]
    if port_text and not all(char.isalnum() for char in port_text):
        return "invalid_host"  # javascript:alert(1) is no host with a bad port
    if port_text:
        if not port_text.isascii() or not port_text.isdigit():
            return "invalid_port"
        if len(port_text) > 5 or not 1 <= int(port_text) <= 65535:
            return "invalid_port"
        port = int(port_text)
    if host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host[1:-1])), port
        except ValueError:
            return "invalid_host"
    try:
        return str(ipaddress.IPv4Address(host)), port
    except ValueError:
        pass
    if not _valid_hostname(host):
        return "invalid_host"
    return host.lower(), port


def split_host(host: str, port: int) -> tuple[str, int] | None:
    """Return host and port from what the user typed, or None if it is no address."""
    where = parse_address(host, port)
    return None if isinstance(where, str) else where


def api_key_error(api_key: str) -> str | None:
    """Return the form error of an API key no HTTP header can carry, or None."""
    if len(api_key) > _MAX_API_KEY or not api_key.isprintable():
        return "invalid_api_key"
    return None


def _server_schema(
    defaults: Mapping[str, Any], *, key_required: bool = True
) -> vol.Schema:
    """The server form; `key_required=False` where an empty key keeps the saved one."""
    key = vol.Required(CONF_API_KEY) if key_required else vol.Optional(CONF_API_KEY)
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, "")): str,
            vol.Required(
                CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_REPETIER_PORT)
            ): cv.port,
            key: PASSWORD_SELECTOR,
        }
    )


async def async_validate_server(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> tuple[RepetierServer | None, dict[str, str]]:
    """List the server's printers; return the server, or form errors."""
    where = parse_address(str(user_input[CONF_HOST]), user_input[CONF_PORT])
    if isinstance(where, str):
        return None, {CONF_HOST: where}
    host, port = where
    api_key = str(user_input[CONF_API_KEY]).strip()
    if (key_error := api_key_error(api_key)) is not None:
        return None, {CONF_API_KEY: key_error}
    try:
        printers = await async_list_printers(
            async_get_clientsession(hass), host, port, api_key
        )
    except PrinterAuthError:
        return None, {"base": "invalid_auth"}
    except PrinterConnectionError:
        return None, {"base": "cannot_connect"}
    except PrinterResponseError:
        return None, {"base": "not_repetier"}
    except PrinterError as err:
        LOGGER.error("Unexpected error talking to Repetier-Server %s: %s", host, err)
        return None, {"base": "unknown"}
    except Exception as err:  # noqa: BLE001 - a form shows "unknown", never an HTTP 500
        # only the type: a foreign message may quote a URL with the API key
        LOGGER.error(
            "Unexpected error talking to Repetier-Server %s (%s)",
            host,
            type(err).__name__,
        )
        return None, {"base": "unknown"}
    return RepetierServer(host=host, port=port, api_key=api_key, printers=printers), {}


def _entry_data(
    server: RepetierServer, slug: str, webcam: int | None
) -> dict[str, Any]:
    return {
        CONF_PRINTER_TYPE: PRINTER_TYPE_REPETIER,
        CONF_HOST: server.host,
        CONF_PORT: server.port,
        CONF_API_KEY: server.api_key,
        CONF_PRINTER_SLUG: slug,
        CONF_WEBCAM: webcam,
    }


def entry_webcam(data: Mapping[str, Any]) -> int | None:
    """Return the webcam an entry shows: its choice, webcam 0 for older entries."""
    webcam = data.get(CONF_WEBCAM, 0)
    return webcam if isinstance(webcam, int) and webcam >= 0 else None


def _webcam_schema(printer: RepetierPrinterInfo, default: int | None) -> vol.Schema:
    if default is not None and not 0 <= default < printer.webcams:
        default = 0
    options = [selector.SelectOptionDict(value=NO_WEBCAM, label="No camera")]
    options.extend(
        selector.SelectOptionDict(value=str(index), label=f"Webcam {index + 1}")
        for index in range(printer.webcams)
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_WEBCAM, default=NO_WEBCAM if default is None else str(default)
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=options,
                    mode=selector.SelectSelectorMode.LIST,
                    translation_key="repetier_webcam",
                )
            )
        }
    )


def _chosen_webcam(value: object, printer: RepetierPrinterInfo) -> int | None:
    """Return the 0-based webcam index a select value names; None for no camera."""
    if isinstance(value, str) and value.isdigit() and int(value) < printer.webcams:
        return int(value)
    return None


def create_repetier_backend(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> RepetierBackend:
    """Build the backend of a Repetier config entry, on HA's shared session."""
    return RepetierBackend(
        async_get_clientsession(hass),
        data[CONF_HOST],
        data[CONF_PORT],
        data[CONF_API_KEY],
        data[CONF_PRINTER_SLUG],
        webcam=entry_webcam(data),
    )


def _without_key(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what to fill back into a form: never the API key."""
    return {k: v for k, v in (user_input or {}).items() if k != CONF_API_KEY}


class RepetierFlowMixin(FlowBase):
    """The Repetier-Server steps of `PrintSentinelConfigFlow`."""

    _repetier_server: RepetierServer | None = None
    """The server validated in `repetier` (or reconfigure), for the next step."""
    _repetier_printer: RepetierPrinterInfo | None = None
    """The printer picked in `repetier_printer`, for the webcam step."""

    async def async_step_repetier(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the Repetier-Server's address and API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            server, errors = await async_validate_server(self.hass, user_input)
            if server is not None and not server.printers:
                errors = {"base": "no_printers"}
            elif server is not None:
                self._repetier_server = server
                return await self.async_step_repetier_printer(None)
        return self.async_show_form(
            step_id="repetier",
            data_schema=self.add_suggested_values_to_schema(
                _server_schema({}), _without_key(user_input)
            ),
            errors=errors,
        )

    async def async_step_repetier_printer(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Let the user pick one of the server's printers that is not set up yet."""
        server = self._repetier_server
        if server is None:  # a stale form: start over at the server step
            return await self.async_step_repetier(None)
        if user_input is not None and (
            printer := server.printer(user_input[CONF_PRINTER_SLUG])
        ):
            await self.async_set_unique_id(
                repetier_unique_id(printer.server_id, printer.slug)
            )
            self._abort_if_repetier_configured(server)
            if printer.has_webcam:
                self._repetier_printer = printer
                return await self.async_step_repetier_webcam(None)
            return self.async_create_entry(
                title=printer.name, data=_entry_data(server, printer.slug, None)
            )
        configured = self._async_current_ids(include_ignore=False)
        available = [
            printer
            for printer in server.printers
            if repetier_unique_id(printer.server_id, printer.slug) not in configured
        ]
        if not available:
            return self.async_abort(reason="no_printers")
        return self.async_show_form(
            step_id="repetier_printer",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_PRINTER_SLUG, default=available[0].slug
                    ): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=[
                                selector.SelectOptionDict(
                                    value=printer.slug,
                                    label=printer.name
                                    + ("" if printer.online else OFFLINE_SUFFIX),
                                )
                                for printer in available
                            ],
                            mode=selector.SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )

    def _abort_if_repetier_configured(self, server: RepetierServer) -> None:
        """Abort when the printer has an entry; move that entry to the server's address."""
        self._abort_if_unique_id_configured(
            updates={
                CONF_HOST: server.host,
                CONF_PORT: server.port,
                CONF_API_KEY: server.api_key,
            }
        )

    async def async_step_repetier_webcam(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Let the user pick which of the printer's webcams the camera shows, if any.

        Shown after `repetier_printer` when adding a printer, and after `reconfigure`.
        """
        reconfigure = self.source == SOURCE_RECONFIGURE
        server = self._repetier_server
        printer = self._repetier_printer
        if server is None or printer is None:  # a stale form: start over
            if reconfigure:
                return await self.async_reconfigure_repetier(None)
            return await self.async_step_repetier(None)
        if user_input is not None:
            webcam = _chosen_webcam(user_input.get(CONF_WEBCAM), printer)
            if reconfigure:
                return self._update_repetier_reconfigured(server, webcam)
            # defensive: another self picking this printer aborts `already_in_progress`
            self._abort_if_repetier_configured(server)
            return self.async_create_entry(
                title=printer.name, data=_entry_data(server, printer.slug, webcam)
            )
        default = entry_webcam(self._get_reconfigure_entry().data) if reconfigure else 0
        return self.async_show_form(
            step_id="repetier_webcam",
            data_schema=_webcam_schema(printer, default),
            description_placeholders={
                "name": printer.name,
                "count": str(printer.webcams),
            },
        )

    def _update_repetier_reconfigured(
        self, server: RepetierServer, webcam: int | None
    ) -> ConfigFlowResult:
        return self.async_update_reload_and_abort(
            self._get_reconfigure_entry(),
            data_updates={
                CONF_HOST: server.host,
                CONF_PORT: server.port,
                CONF_API_KEY: server.api_key,
                CONF_WEBCAM: webcam,
            },
        )

    async def _async_checked_repetier_server(
        self,
        user_input: Mapping[str, Any],
        slug: str,
    ) -> tuple[RepetierServer | None, dict[str, str], ConfigFlowResult | None]:
        """Validate the server; make sure it still has the entry's printer.

        Returns the server and no errors on success; form errors when the server cannot
        be used; an abort result (`wrong_printer`) when it has other printers.
        """
        server, errors = await async_validate_server(self.hass, user_input)
        if server is None:
            return None, errors, None
        printer = server.printer(slug)
        if printer is None:
            return None, {}, self.async_abort(reason="wrong_printer")
        await self.async_set_unique_id(repetier_unique_id(printer.server_id, slug))
        self._abort_if_unique_id_mismatch(reason="wrong_printer")
        return server, {}, None

    async def async_reconfigure_repetier(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Change the address or API key of a Repetier printer's server."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            # the key is a secret, never shown again: left empty, the saved one is
            # used while the host stays the same (never sent to a new address)
            typed = str(user_input.get(CONF_API_KEY) or "").strip()
            where = split_host(str(user_input[CONF_HOST]), user_input[CONF_PORT])
            server: RepetierServer | None = None
            if not typed and where is not None and where[0] != entry.data[CONF_HOST]:
                errors = {CONF_API_KEY: "key_for_new_address"}
            else:
                server, errors, abort = await self._async_checked_repetier_server(
                    {**user_input, CONF_API_KEY: typed or entry.data[CONF_API_KEY]},
                    entry.data[CONF_PRINTER_SLUG],
                )
                if abort is not None:
                    return abort
            if server is not None:
                printer = server.printer(entry.data[CONF_PRINTER_SLUG])
                if printer is not None and printer.has_webcam:
                    self._repetier_server = server
                    self._repetier_printer = printer
                    return await self.async_step_repetier_webcam(None)
                return self._update_repetier_reconfigured(server, None)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _server_schema(entry.data, key_required=False), _without_key(user_input)
            ),
            errors=errors,
        )

    async def async_reauth_repetier(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for a new API key after Repetier-Server refused the stored one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            server, errors, abort = await self._async_checked_repetier_server(
                {**entry.data, CONF_API_KEY: user_input[CONF_API_KEY]},
                entry.data[CONF_PRINTER_SLUG],
            )
            if abort is not None:
                return abort
            if server is not None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: server.api_key}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): PASSWORD_SELECTOR}),
            description_placeholders={
                "name": entry.title,
                "host": f"{entry.data[CONF_HOST]}:{entry.data[CONF_PORT]}",
            },
            errors=errors,
        )
