"""HTTP Digest authentication the way Prusa-Firmware-Buddy's PrusaLink does it.

The firmware answers unauthenticated requests with
`WWW-Authenticate: Digest realm="Printer API", nonce="<16 hex>", stale=false` (no
`qop`, no `algorithm`) and accepts RFC 2069 responses, which is what pyprusalink's
`DigestAuthWorkaround` sends. A nonce stays valid until the printer reboots, so a
client that reuses its last challenge needs one request per call. `qop="auth"`
(RFC 2617/7616, with `nc` and `cnonce`) is verified too, and can be offered in the
challenge for clients that want it. `X-Api-Key: <password>` is the alternative.
"""

from __future__ import annotations

from enum import Enum
import hashlib
import hmac
import secrets
from urllib.request import parse_http_list, parse_keqv_list

REALM = "Printer API"


class AuthResult(Enum):
    """Outcome of checking a request's credentials."""

    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    STALE = "stale"
    """Right credentials, but a nonce this boot did not issue."""


def _md5(data: str) -> str:
    return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()


class DigestAuthenticator:
    """Issue Digest challenges and verify responses for user `maker`."""

    def __init__(
        self, username: str, password: str, *, offer_qop: bool = False
    ) -> None:
        """Set the credentials; `offer_qop` adds `qop="auth"` to challenges."""
        self.username = username
        self.password = password
        self.offer_qop = offer_qop
        self._nonce = ""
        self.new_nonce()

    @property
    def nonce(self) -> str:
        """Return the nonce challenges currently carry."""
        return self._nonce

    def new_nonce(self) -> None:
        """Forget the current nonce (as a reboot does) and issue a new one."""
        self._nonce = secrets.token_hex(8)

    def challenge(self, *, stale: bool = False) -> str:
        """Return the `WWW-Authenticate` header value of a 401 answer."""
        value = f'Digest realm="{REALM}", nonce="{self._nonce}"'
        if self.offer_qop:
            value += ', qop="auth"'
        return value + (", stale=true" if stale else ", stale=false")

    def check(
        self,
        method: str,
        raw_path: str,
        authorization: str | None,
        api_key: str | None,
    ) -> AuthResult:
        """Check one request's `Authorization` / `X-Api-Key` headers."""
        if api_key is not None:
            if hmac.compare_digest(api_key.encode(), self.password.encode()):
                return AuthResult.OK
            return AuthResult.INVALID
        if not authorization:
            return AuthResult.MISSING
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "digest":
            return AuthResult.INVALID
        try:
            fields = parse_keqv_list(parse_http_list(rest))
        except ValueError:
            return AuthResult.INVALID
        return self._check_digest(method, raw_path, fields)

    def _check_digest(
        self, method: str, raw_path: str, fields: dict[str, str]
    ) -> AuthResult:
        username = fields.get("username")
        realm = fields.get("realm")
        nonce = fields.get("nonce")
        uri = fields.get("uri")
        response = fields.get("response")
        if not (username and realm and nonce and uri and response):
            return AuthResult.INVALID
        if username != self.username or realm != REALM or uri != raw_path:
            return AuthResult.INVALID
        algorithm = fields.get("algorithm", "MD5").upper()
        if algorithm not in {"MD5", "MD5-SESS"}:
            return AuthResult.INVALID
        qop = fields.get("qop")
        cnonce = fields.get("cnonce", "")
        nc = fields.get("nc", "")
        ha1 = _md5(f"{username}:{realm}:{self.password}")
        if algorithm == "MD5-SESS":
            if not cnonce:
                return AuthResult.INVALID
            ha1 = _md5(f"{ha1}:{nonce}:{cnonce}")
        ha2 = _md5(f"{method}:{uri}")
        if qop is None:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        elif qop == "auth" and nc and cnonce:
            expected = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            return AuthResult.INVALID
        if not hmac.compare_digest(expected.encode(), response.lower().encode()):
            return AuthResult.INVALID
        if nonce != self._nonce:
            return AuthResult.STALE
        return AuthResult.OK
