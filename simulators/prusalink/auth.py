"""HTTP Digest authentication the way Prusa-Firmware-Buddy's PrusaLink does it.

The firmware answers unauthenticated requests with
`WWW-Authenticate: Digest realm="Printer API", nonce="<16 hex>", stale=false` (no
`qop`, no `algorithm`) and accepts RFC 2069 responses, which is what pyprusalink's
`DigestAuthWorkaround` sends. A nonce stays valid until the printer reboots, so a
client that reuses its last challenge needs one request per call. `qop="auth"`
(RFC 2617/7616, with `nc` and `cnonce`) is verified too, and can be offered in the
challenge for clients that want it. `X-Api-Key: <password>` is the alternative.

The Raspberry Pi PrusaLink (MK3S, PyPI `prusalink` 0.8.1, on PoorWSGI) differs:
realm `Administrator`, `qop="auth"`, `algorithm="MD5-sess"` and an `opaque`, all
required back; its nonce is a hash of a secret, the client's User-Agent and a time
window of `nonce_lifetime` seconds, so it is the same for every challenge in one
window and valid until the end of the next one (60-120 s), then answered 401 with
`stale=true`; `X-Api-Key` is a key of its own (`api_key`), a wrong one is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
import hashlib
import hmac
import secrets
from urllib.request import parse_http_list, parse_keqv_list

REALM = "Printer API"
MK3S_REALM = "Administrator"


class AuthResult(Enum):
    """Outcome of checking a request's credentials."""

    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    STALE = "stale"
    """Right credentials, but a nonce this boot did not issue (or one expired)."""
    BAD_API_KEY = "bad_api_key"
    """An `X-Api-Key` that is not the key (MK3S: 403 `Bad X-Api-Key.`)."""


def _md5(data: str) -> str:
    return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()


class DigestAuthenticator:
    """Issue Digest challenges and verify responses for user `maker`."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        offer_qop: bool = False,
        realm: str = REALM,
        algorithm: str | None = None,
        nonce_lifetime: float | None = None,
        clock: Callable[[], float] | None = None,
        api_key: str | None = None,
        opaque: str | None = None,
    ) -> None:
        """Set the credentials; `offer_qop` adds `qop="auth"` to challenges.

        `algorithm` (e.g. `MD5-sess`) is offered and then required; with
        `nonce_lifetime` nonces are PoorWSGI's time-window tokens on `clock`;
        `api_key` is the `X-Api-Key` (None: the password, as Buddy firmware).
        """
        self.username = username
        self.password = password
        self.offer_qop = offer_qop
        self.realm = realm
        self.algorithm = algorithm
        self.nonce_lifetime = nonce_lifetime
        self.api_key = api_key
        self.opaque = opaque
        self._clock = clock or (lambda: 0.0)
        self._secret = ""
        self._nonce = ""
        self.new_nonce()

    @property
    def nonce(self) -> str:
        """Return the nonce challenges currently carry (for no User-Agent)."""
        return self.nonce_for("")

    def nonce_for(self, user_agent: str) -> str:
        """Return the nonce a challenge to this User-Agent carries now."""
        if self.nonce_lifetime is None:
            return self._nonce
        return self._window_nonce(user_agent, self._window() + 2)

    def _window(self) -> int:
        assert self.nonce_lifetime is not None
        return int(self._clock() // self.nonce_lifetime)

    def _window_nonce(self, user_agent: str, expires: int) -> str:
        text = f"{self._secret}{expires}{user_agent}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _nonce_valid(self, nonce: str, user_agent: str) -> bool:
        if self.nonce_lifetime is None:
            return nonce == self._nonce
        window = self._window()
        return any(
            hmac.compare_digest(nonce, self._window_nonce(user_agent, window + ahead))
            for ahead in (1, 2)
        )

    def new_nonce(self) -> None:
        """Forget the current nonce (as a reboot does) and issue a new one."""
        self._nonce = secrets.token_hex(8)
        self._secret = secrets.token_hex(16)

    def challenge(self, *, stale: bool = False, user_agent: str = "") -> str:
        """Return the `WWW-Authenticate` header value of a 401 answer."""
        value = f'Digest realm="{self.realm}"'
        if self.offer_qop:
            value += ', qop="auth"'
        if self.algorithm:
            value += f', algorithm="{self.algorithm}"'
        value += f', nonce="{self.nonce_for(user_agent)}"'
        if self.opaque:
            value += f', opaque="{self.opaque}"'
        return value + (", stale=true" if stale else ", stale=false")

    def check(
        self,
        method: str,
        raw_path: str,
        authorization: str | None,
        api_key: str | None,
        user_agent: str = "",
    ) -> AuthResult:
        """Check one request's `Authorization` / `X-Api-Key` headers."""
        if api_key is not None:
            key = self.password if self.api_key is None else self.api_key
            if hmac.compare_digest(api_key.encode(), key.encode()):
                return AuthResult.OK
            if self.api_key is not None:
                return AuthResult.BAD_API_KEY
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
        return self._check_digest(method, raw_path, fields, user_agent)

    def _check_digest(
        self, method: str, raw_path: str, fields: dict[str, str], user_agent: str
    ) -> AuthResult:
        username = fields.get("username")
        realm = fields.get("realm")
        nonce = fields.get("nonce")
        uri = fields.get("uri")
        response = fields.get("response")
        if not (username and realm and nonce and uri and response):
            return AuthResult.INVALID
        if username != self.username or realm != self.realm or uri != raw_path:
            return AuthResult.INVALID
        if self.algorithm and fields.get("algorithm") != self.algorithm:
            return AuthResult.INVALID
        if self.opaque and fields.get("opaque") != self.opaque:
            return AuthResult.INVALID
        if self.nonce_lifetime is not None and fields.get("qop") != "auth":
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
        if not self._nonce_valid(nonce, user_agent):
            return AuthResult.STALE
        return AuthResult.OK
