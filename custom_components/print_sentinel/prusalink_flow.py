"""Config flow steps for Prusa printers with PrusaLink.

1. `prusalink`: host, user name, password, the optional API key of the Raspberry Pi
   PrusaLink (MK2.5/MK3/MK3S) and an optional name. The printer is called with
   them (`validate_prusalink`); its serial number is the entry's unique id, so a
   re-add at a new address moves the existing entry there.
2. `dhcp`: a device with a Prusa Research MAC address joined the network: an entry
   with that MAC or address follows it; a new printer is offered under Discovered
   and continues at `prusalink`.
3. Reauth (a new password) and reconfigure (address and credentials) check that the
   same printer answers before they touch the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import (
    CONF_API_KEY,
    CONF_HOST,
    CONF_MAC,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import probatio as vol

from .const import CONF_PRINTER_TYPE, DEFAULT_USERNAME, LOGGER, PRINTER_TYPE_PRUSALINK
from .flow_base import PASSWORD_SELECTOR, FlowBase, name_error
from .printers.base import (
    PrinterAuthError,
    PrinterConnectionError,
    PrinterError,
    PrinterIdentity,
    PrinterResponseError,
)
from .printers.prusalink import PrusaLinkBackend, normalize_host
from .validation import same_host

_USERNAME: Final = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")
"""A user name Digest auth can carry: printable ASCII, no quote or backslash."""


def _prusalink_schema(
    defaults: Mapping[str, Any], *, with_name: bool = True
) -> vol.Schema:
    schema = vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, "")): str,
            vol.Required(
                CONF_USERNAME, default=defaults.get(CONF_USERNAME, DEFAULT_USERNAME)
            ): str,
            vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
            vol.Optional(CONF_API_KEY): PASSWORD_SELECTOR,
        }
    )
    return schema.extend({vol.Optional(CONF_NAME): str}) if with_name else schema


def _fill_back(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """What to fill back into a form after an error: never a password or key.

    They would go back to the browser (the Repetier and options forms agree).
    """
    return {
        k: v
        for k, v in (user_input or {}).items()
        if k not in (CONF_PASSWORD, CONF_API_KEY)
    }


def _api_key(data: Mapping[str, Any]) -> str | None:
    """The optional `X-Api-Key` (the Raspberry Pi PrusaLink's own key), stripped."""
    return str(data.get(CONF_API_KEY) or "").strip() or None


def _trimmed(user_input: dict[str, Any]) -> dict[str, Any]:
    """The form's values with the user name trimmed (a pasted "maker " is maker)."""
    if isinstance(user_input.get(CONF_USERNAME), str):
        return {**user_input, CONF_USERNAME: user_input[CONF_USERNAME].strip()}
    return user_input


def create_prusalink_backend(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> PrusaLinkBackend:
    """Build the backend of a PrusaLink config entry, on HA's shared httpx client."""
    return PrusaLinkBackend(
        get_async_client(hass),
        data[CONF_HOST],
        data[CONF_USERNAME],
        data[CONF_PASSWORD],
        name=data.get(CONF_NAME),
        api_key=data.get(CONF_API_KEY) or None,
    )


async def validate_prusalink(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[PrinterIdentity | None, dict[str, str]]:
    """Call the printer; return its identity, or form errors."""
    try:
        normalize_host(data[CONF_HOST])
    except ValueError:
        return None, {CONF_HOST: "invalid_host"}
    if not _USERNAME.fullmatch(data[CONF_USERNAME]):
        return None, {CONF_USERNAME: "invalid_username"}
    try:
        backend = PrusaLinkBackend(
            get_async_client(hass),
            data[CONF_HOST],
            data[CONF_USERNAME],
            data[CONF_PASSWORD],
            api_key=_api_key(data),
        )
    except ValueError:
        return None, {CONF_API_KEY: "invalid_api_key"}
    try:
        return await backend.async_get_identity(), {}
    except PrinterAuthError:
        return None, {"base": "invalid_auth"}
    except PrinterConnectionError:
        return None, {"base": "cannot_connect"}
    except PrinterResponseError:
        return None, {"base": "not_prusalink"}
    except PrinterError as err:
        LOGGER.error("Unexpected error talking to the printer: %s", err)
        return None, {"base": "unknown"}
    except Exception as err:  # noqa: BLE001 - a form shows "unknown", never an HTTP 500
        # only the type: a foreign message may quote a URL or a header
        LOGGER.error("Unexpected error talking to the printer (%s)", type(err).__name__)
        return None, {"base": "unknown"}


class PrusaLinkFlowMixin(FlowBase):
    """The PrusaLink steps of `PrintSentinelConfigFlow`."""

    _discovered: dict[str, Any]
    """What DHCP discovery found (host, MAC), as the form's defaults."""

    async def async_step_prusalink(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a PrusaLink printer's address and password."""
        discovered = getattr(self, "_discovered", {})
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _trimmed(user_input)
            chosen = " ".join(str(user_input.get(CONF_NAME) or "").split())
            if (name_problem := name_error(chosen)) is not None:
                errors = {CONF_NAME: name_problem}
                identity = None
            else:
                identity, errors = await validate_prusalink(self.hass, user_input)
            if identity is not None:
                await self.async_set_unique_id(identity.unique_id)
                # the credentials were just checked against this printer: a re-add
                # at a new address with a new password keeps working with both
                self._abort_if_unique_id_configured(
                    updates={
                        CONF_HOST: normalize_host(user_input[CONF_HOST]),
                        CONF_USERNAME: user_input[CONF_USERNAME],
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                        CONF_API_KEY: _api_key(user_input),
                    }
                )
                title = chosen or self._distinct_name(identity)
                return self.async_create_entry(
                    title=title,
                    data={
                        CONF_PRINTER_TYPE: PRINTER_TYPE_PRUSALINK,
                        CONF_HOST: normalize_host(user_input[CONF_HOST]),
                        CONF_USERNAME: user_input[CONF_USERNAME],
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                        **(
                            {CONF_API_KEY: key} if (key := _api_key(user_input)) else {}
                        ),
                        **({CONF_NAME: title} if title != identity.name else {}),
                        **(
                            {CONF_MAC: discovered[CONF_MAC]}
                            if CONF_MAC in discovered
                            else {}
                        ),
                    },
                )
        return self.async_show_form(
            step_id="prusalink",
            data_schema=self.add_suggested_values_to_schema(
                _prusalink_schema(discovered), _fill_back(user_input)
            ),
            errors=errors,
        )

    def _distinct_name(self, identity: PrinterIdentity) -> str:
        """The printer's own name, or that name with the serial's ending.

        The ending is added when another entry already has the name, so two MK4S
        stay apart.
        """
        taken = {entry.title for entry in self._async_current_entries()}
        if identity.name not in taken:
            return identity.name
        suffix = (identity.serial_number or identity.unique_id)[-4:]
        candidate = f"{identity.name} {suffix}"
        number = 2
        while candidate in taken:
            candidate = f"{identity.name} {suffix} ({number})"
            number += 1
        return candidate

    async def async_step_dhcp(
        self, discovery_info: DhcpServiceInfo
    ) -> ConfigFlowResult:
        """A device with a Prusa Research MAC address joined the network."""
        mac = format_mac(discovery_info.macaddress)
        host = normalize_host(discovery_info.ip)
        for entry in self._async_current_entries(include_ignore=False):
            if entry.data.get(CONF_MAC) == mac or entry.data.get(CONF_HOST) == host:
                if entry.data.get(CONF_HOST) != host:
                    self.hass.config_entries.async_update_entry(
                        entry, data={**entry.data, CONF_HOST: host}
                    )
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                elif entry.data.get(CONF_MAC) != mac:
                    # a printer added by hand, seen at its address: remember its
                    # MAC, so a new address from DHCP later is followed too
                    self.hass.config_entries.async_update_entry(
                        entry, data={**entry.data, CONF_MAC: mac}
                    )
                return self.async_abort(reason="already_configured")
        await self.async_set_unique_id(mac)
        self._abort_if_unique_id_configured()
        self._discovered = {CONF_HOST: discovery_info.ip, CONF_MAC: mac}
        self.context["title_placeholders"] = {
            "name": discovery_info.hostname or discovery_info.ip
        }
        # the printer's serial becomes the unique id once the user gives the password
        return await self.async_step_prusalink()

    async def async_reauth_prusalink(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the new password (step `reauth_confirm`)."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _trimmed(user_input)
            data = {**entry.data, **user_input}
            identity, errors = await validate_prusalink(self.hass, data)
            if identity is not None:
                await self.async_set_unique_id(identity.unique_id)
                self._abort_if_unique_id_mismatch(reason="wrong_printer")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_USERNAME,
                        default=entry.data.get(CONF_USERNAME, DEFAULT_USERNAME),
                    ): str,
                    vol.Required(CONF_PASSWORD): PASSWORD_SELECTOR,
                }
            ),
            description_placeholders={
                "name": entry.title,
                "host": entry.data[CONF_HOST],
            },
            errors=errors,
        )

    async def async_reconfigure_prusalink(
        self, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Change the printer's address and credentials (step `reconfigure`)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _trimmed(user_input)
            # an empty API key field keeps the key the entry has (it is a secret,
            # never shown again) while the host stays the same: a saved key is
            # never sent to a new address; a new one replaces it
            key = _api_key(user_input) or (
                _api_key(entry.data)
                if same_host(user_input[CONF_HOST], entry.data[CONF_HOST])
                else None
            )
            identity, errors = await validate_prusalink(
                self.hass, {**user_input, CONF_API_KEY: key}
            )
            if identity is not None:
                await self.async_set_unique_id(identity.unique_id)
                self._abort_if_unique_id_mismatch(reason="wrong_printer")
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_HOST: normalize_host(user_input[CONF_HOST]),
                        CONF_USERNAME: user_input[CONF_USERNAME],
                        CONF_PASSWORD: user_input[CONF_PASSWORD],
                        CONF_API_KEY: key,
                    },
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _prusalink_schema(entry.data, with_name=False), _fill_back(user_input)
            ),
            errors=errors,
        )
