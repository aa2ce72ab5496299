"""`redact_secrets`: a secret goes from a server's text in every form it comes back."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from custom_components.print_sentinel.redact import MASK, redact_secrets

SECRET = "Pk+Se cret&k=9911/ü\\'\""


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
        repr(SECRET)[1:-1],
        str({"input": SECRET})[10:-2],
    ],
    ids=["typed", "percent", "plus", "json", "repr", "in_a_dict"],
)
def test_every_form_is_redacted(form: str) -> None:
    text = redact_secrets(f"error: {form} refused", SECRET)
    assert "9911" not in text
    assert text.startswith("error: ") and MASK in text


def test_text_without_a_secret_is_kept() -> None:
    assert redact_secrets("all fine", SECRET, None, "") == "all fine"
