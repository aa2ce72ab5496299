"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Generator

import pytest

# Import the integration before Home Assistant looks for it, or HA searches the test
# plugin's own testing_config/custom_components and reports "Integration not found".
import custom_components.print_sentinel  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load custom integrations in every test."""
    yield
