"""Secrets out of text a server sent back (errors that quote the request).

A key or password may come back as typed, percent-encoded (a URL carries it), or
escaped (a JSON or Python rendering of the request): every form goes. Redact
before a text is cut, so that no part of a secret survives at the cut. Nothing
here imports Home Assistant.
"""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

from yarl import URL

MASK = "***"


def _forms(secret: str) -> set[str]:
    """The ways `secret` may be written in text a server sends back."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
    }
    query = URL("http://host/").with_query({"k": secret}).raw_query_string
    forms.add(query.partition("=")[2])
    return {form for form in forms if form}


def redact_secrets(text: str, *secrets: str | None) -> str:
    """Return `text` with every form of each secret replaced by `MASK`."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= _forms(secret)
    for form in sorted(forms, key=len, reverse=True):  # longest first
        text = text.replace(form, MASK)
    return text
