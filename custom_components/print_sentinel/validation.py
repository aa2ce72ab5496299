"""Parse what a user types as a host, port or URL, before anything connects.

`normalize_url("192.168.1.5:8080")` -> `"http://192.168.1.5:8080"`; raises
`ValueError` for an empty field, spaces or control characters, a scheme other than
http(s), a port that is not 1-65535, or a host that is neither an IP address nor a
valid (IDNA) host name. User info (`user:pw@`) is dropped, and so, unless
`allow_path`, are the path, query and fragment (a URL copied from a browser). IDNA names are kept as typed (`http://xn--ls8h.la`) and validated with
the `idna` package (IDNA 2008, as httpx). Nothing here imports Home Assistant.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

import idna

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
"""A host name's label. An underscore breaks the RFC, but home routers hand such
names out (`my_printer.local`) and every resolver here finds them."""


def has_control_chars(text: str) -> bool:
    """Whether `text` holds a control character (NUL, DEL, escape, C1 codes ...)."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def validate_port(port: object) -> int:
    """A TCP port 1-65535 (int or digits), else ValueError."""
    if isinstance(port, bool):
        raise ValueError("invalid port")  # noqa: TRY004 - one error type for callers
    if isinstance(port, str):
        port = port.strip()
        if not port.isdigit():
            raise ValueError("invalid port")
        port = int(port)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError("invalid port")
    return port


def validate_hostname(host: str) -> str:
    """An IP address or DNS/IDNA host name, lower-cased; else ValueError."""
    host = host.strip().lower().rstrip(".")
    if not host or len(host) > 253:
        raise ValueError("invalid host")
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        pass
    else:
        return host
    try:
        if host.isascii():
            ascii_host = host
            if any(label.startswith("xn--") for label in host.split(".")):
                idna.decode(host)  # httpx refuses what IDNA 2008 refuses
        else:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as err:
        raise ValueError("invalid host") from err
    labels = ascii_host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError("invalid host")
    if all(label.isdigit() for label in labels):
        raise ValueError("invalid host")  # 10.0.0.300: neither an IP nor a name
    return host


def normalize_url(value: object, *, allow_path: bool = True) -> str:
    """Turn an IP, host[:port] or http(s) URL into a checked URL (see module doc)."""
    if not isinstance(value, str):
        raise ValueError("not text")  # noqa: TRY004 - one error type for callers
    text = value.strip()
    if not text or any(ch.isspace() for ch in text) or has_control_chars(text):
        raise ValueError("invalid address")
    if "://" not in text:
        if text.count(":") > 1 and not text.startswith("["):
            text = f"[{text}]"  # a bare IPv6 address
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError when not a number or out of range
        hostname = parts.hostname
    except ValueError as err:
        raise ValueError("invalid address") from err
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValueError("invalid address")
    if port is not None:
        validate_port(port)
    validate_hostname(hostname)
    # rebuilt from the checked parts: user info is dropped, never sent
    host = f"[{hostname}]" if ":" in hostname else hostname
    base = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    if not allow_path:
        return base
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return base + rest


def same_host(typed: object, saved: object) -> bool:
    """Whether two addresses (as `normalize_url` takes them) name the same host.

    The port may differ: it is the same machine. A saved secret is sent to a
    newly typed address only when this holds.
    """
    try:
        return (
            urlsplit(normalize_url(typed, allow_path=False)).hostname
            == urlsplit(normalize_url(saved, allow_path=False)).hostname
        )
    except ValueError:
        return False
