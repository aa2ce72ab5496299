"""Two readings of OpenAI's image-token rules agree: the integration's and the simulator's.

`detection/cost.py` estimates what a check costs; `simulators/openai_tokens.py`,
written from the documentation on its own, is what the OpenAI simulator bills.
"Estimated vs measured" in `scripts/bench cost` is only a check when the two are
independent and agree where the documentation gives numbers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from custom_components.print_sentinel.detection import cost
from simulators import openai_tokens

# (model, detail, width, height, tokens) as OpenAI's vision guide states them
DOCUMENTED = [
    # patch models: 1024 x 1024 is 1024 patches; 1800 x 2400 is 1452
    ("gpt-4.1-mini", "low", 1024, 1024, 1659),  # 1024 x 1.62, rounded up
    ("gpt-4.1-mini", "high", 1800, 2400, 2353),  # 1452 x 1.62
    ("gpt-4.1-nano", "high", 1024, 1024, 2520),  # 1024 x 2.46
    ("o4-mini", "auto", 1800, 2400, 2498),  # 1452 x 1.72
    # tile models: 4 tiles (765), 6 tiles (1105), low is the base
    ("gpt-4o", "high", 1024, 1024, 765),
    ("gpt-4o", "high", 2048, 4096, 1105),
    ("gpt-4o", "low", 4096, 8192, 85),
    ("gpt-4o-mini", "low", 4096, 8192, 2833),
    ("gpt-4o-mini", "high", 1024, 1024, 2833 + 4 * 5667),
]


@pytest.mark.parametrize(("model", "detail", "width", "height", "tokens"), DOCUMENTED)
def test_both_readings_give_the_documented_tokens(
    model: str, detail: str, width: int, height: int, tokens: int
) -> None:
    assert openai_tokens.image_tokens(model, detail, width, height) == tokens
    assert cost.image_tokens(model, detail, width, height) == tokens


def test_documented_patch_counts() -> None:
    assert openai_tokens.patches(1024, 1024) == cost.patch_count(1024, 1024) == 1024
    assert openai_tokens.patches(1800, 2400) == cost.patch_count(1800, 2400) == 1452
    assert openai_tokens.tiles(2048, 4096) == cost.tile_count(2048, 4096) == 6


@pytest.mark.parametrize("model", sorted(openai_tokens.MODELS))
@pytest.mark.parametrize("detail", ["low", "high"])
def test_they_agree_on_the_frames_a_check_sends(model: str, detail: str) -> None:
    """Every size the integration sends (each long side, 16:9, 4:3, 1:1, portrait)."""
    for long_side in (256, 384, 512, 768, 1024, 1920, 3840):
        for ratio in (16 / 9, 4 / 3, 1.0, 9 / 16):
            width = long_side if ratio >= 1 else round(long_side * ratio)
            height = round(long_side / ratio) if ratio >= 1 else long_side
            sizes = (model, detail, width, height)
            assert openai_tokens.image_tokens(*sizes) == cost.image_tokens(*sizes), (
                sizes
            )


def test_the_simulator_does_not_read_the_integrations_cost_rules() -> None:
    """What the simulator bills must not come from the code it checks."""
    root = Path(__file__).parents[1] / "simulators"
    for name in ("openai_tokens.py", "openai_compat.py"):
        tree = ast.parse((root / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not any("detection.cost" in module for module in imported), name


def test_snapshots_of_a_model_are_billed_like_it() -> None:
    assert openai_tokens.rule("gpt-4.1-nano-2025-04-14") == openai_tokens.rule(
        "gpt-4.1-nano"
    )
    assert openai_tokens.rule("gpt-4.1-pro") == openai_tokens.FALLBACK
    assert openai_tokens.text_tokens("x" * 9) == cost.estimate_text_tokens("x" * 9) == 3
