"""What a call costs: USD per million input and output tokens, per model.

The built-in table holds list prices of a handful of current OpenAI and Anthropic models (from the
providers' pricing pages, 2025; cached-input and batch discounts are not modelled). A ``prices``
mapping, fed by config, overrides and extends it. A model without a price costs None, never a
guessed number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def __post_init__(self) -> None:
        if not (self.input_per_mtok >= 0 and self.output_per_mtok >= 0):
            raise ValueError("a price is a non-negative number of USD per million tokens")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
        ) / 1e6


PriceLike = Price | tuple[float, float]

PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "o3": Price(2.00, 8.00),
    "o4-mini": Price(1.10, 4.40),
    # Anthropic
    "claude-opus-4-1": Price(15.00, 75.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-sonnet-4-5": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
}

# A dated snapshot (gpt-4o-2024-08-06, claude-sonnet-4-5-20250929) costs what its alias costs.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
_LATEST = re.compile(r"-latest$")


def as_price(value: PriceLike) -> Price:
    return value if isinstance(value, Price) else Price(float(value[0]), float(value[1]))


def price_for(
    model: str,
    overrides: Mapping[str, PriceLike] | None = None,
    *,
    builtin: bool = True,
) -> Price | None:
    """The price of ``model``: ``overrides`` first, then (if ``builtin``) the table; else None."""
    table: dict[str, Price] = dict(PRICES) if builtin else {}
    table.update({name: as_price(value) for name, value in (overrides or {}).items()})
    for name in (model, _SNAPSHOT.sub("", model), _LATEST.sub("", model)):
        if name in table:
            return table[name]
    return None


def cost_usd(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    overrides: Mapping[str, PriceLike] | None = None,
    *,
    builtin: bool = True,
) -> float | None:
    """The cost of a call in USD, or None when ``model`` has no price."""
    price = price_for(model, overrides, builtin=builtin)
    return None if price is None else price.cost(prompt_tokens, completion_tokens)
