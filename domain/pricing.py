"""Prices per model, and the one exact way to turn usage into cost.

Prices are integer nano-USD per million tokens, so "$0.0375 / 1M" is the exact
37_500_000. A cost is the exact sum of tokens x price, divided by a million and
rounded once, half away from zero, to the nano-USD (see `cost_of`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.money import Money, divide_rounding_half_up
from domain.usage import Usage

TOKENS_PER_PRICE_UNIT = 1_000_000

# Dated snapshots and version tags that name the same priced family:
# gpt-4o-2024-08-06, claude-3-5-sonnet-20241022, claude-3-opus@20240229,
# gpt-4-0125-preview, mistral-large-2411, gemini-1.5-pro-002, *-latest.
_SNAPSHOT_SUFFIXES = (
    re.compile(r"[-@]\d{4}-\d{2}-\d{2}$"),
    re.compile(r"[-@]\d{8}$"),
    re.compile(r"-latest$"),
    re.compile(r"-preview$"),
    re.compile(r"-\d{4}$"),
    re.compile(r"-\d{3}$"),
    re.compile(r"-exp$"),
)
_KNOWN_PREFIXES = (
    "openai",
    "anthropic",
    "google",
    "gemini",
    "vertex_ai",
    "mistral",
    "mistralai",
    "deepseek",
    "groq",
    "xai",
    "x-ai",
    "azure",
    "bedrock",
    "models",
)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """What one model costs per million tokens, from a date on."""

    provider: str
    model: str
    input: Money
    output: Money
    effective_from: date
    cache_read: Money | None = None
    cache_write: Money | None = None
    reasoning: Money | None = None
    batch_input: Money | None = None
    batch_output: Money | None = None
    max_output_tokens: int | None = None
    source: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A tenant's own negotiated price; it wins over the built-in table."""

    tenant_id: str
    price: ModelPrice


def cost_of(usage: Usage, price: ModelPrice) -> Money:
    """Exact cost of `usage` at `price`, rounded once to the nano-USD.

    Cache reads and writes fall back to the input price when the model has no
    separate cache price; reasoning tokens are billed at the reasoning price
    when one is set, otherwise they are ordinary output.
    """
    cache_read = price.cache_read if price.cache_read is not None else price.input
    cache_write = price.cache_write if price.cache_write is not None else price.input
    if price.reasoning is not None:
        plain_output = usage.output_tokens - usage.reasoning_tokens
        output_part = (
            plain_output * price.output.nanos + usage.reasoning_tokens * price.reasoning.nanos
        )
    else:
        output_part = usage.output_tokens * price.output.nanos
    exact_times_million = (
        usage.input_tokens * price.input.nanos
        + usage.cache_read_tokens * cache_read.nanos
        + usage.cache_write_tokens * cache_write.nanos
        + output_part
    )
    return Money(divide_rounding_half_up(exact_times_million, TOKENS_PER_PRICE_UNIT))


def normalise_provider(provider: str) -> str:
    return provider.strip().lower()


def model_name_candidates(provider: str, model: str) -> list[str]:
    """Names to try for a model, most specific first.

    `openai/gpt-4o-2024-08-06` tries `gpt-4o-2024-08-06`, then `gpt-4o`.
    """
    name = model.strip().lower()
    while "/" in name and name.split("/", 1)[0] in (*_KNOWN_PREFIXES, provider):
        name = name.split("/", 1)[1]
    candidates = [name]
    stripped = name
    changed = True
    while changed:
        changed = False
        for suffix in _SNAPSHOT_SUFFIXES:
            shorter = suffix.sub("", stripped)
            if shorter != stripped and shorter:
                stripped = shorter
                candidates.append(stripped)
                changed = True
                break
    return candidates


@dataclass(slots=True)
class PriceCatalog:
    """Built-in prices, looked up by provider, model name and date."""

    _by_name: dict[tuple[str, str], list[ModelPrice]] = field(default_factory=dict)

    @classmethod
    def of(cls, prices: Iterable[ModelPrice]) -> PriceCatalog:
        catalog = cls()
        for price in prices:
            catalog.add(price)
        return catalog

    def add(self, price: ModelPrice) -> None:
        provider = normalise_provider(price.provider)
        for name in (price.model, *price.aliases):
            entries = self._by_name.setdefault((provider, name.lower()), [])
            entries.append(price)
            entries.sort(key=lambda entry: entry.effective_from)

    def __len__(self) -> int:
        return len({id(p) for entries in self._by_name.values() for p in entries})

    def models(self) -> list[ModelPrice]:
        unique = {id(p): p for entries in self._by_name.values() for p in entries}
        return sorted(unique.values(), key=lambda p: (p.provider, p.model, p.effective_from))

    def resolve(
        self,
        provider: str,
        model: str,
        on: date,
        overrides: Mapping[tuple[str, str], list[ModelPrice]] | None = None,
    ) -> ModelPrice | None:
        """The price in force on `on`; a tenant override beats the table at every name."""
        provider = normalise_provider(provider)
        for candidate in model_name_candidates(provider, model):
            for table in (overrides or {}, self._by_name):
                found = _in_force(table.get((provider, candidate), ()), on)
                if found is not None:
                    return found
        return None


def _in_force(entries: Iterable[ModelPrice], on: date) -> ModelPrice | None:
    chosen = None
    for entry in entries:
        if entry.effective_from <= on:
            chosen = entry
    return chosen


def overrides_index(prices: Iterable[ModelPrice]) -> dict[tuple[str, str], list[ModelPrice]]:
    index: dict[tuple[str, str], list[ModelPrice]] = {}
    for price in sorted(prices, key=lambda p: p.effective_from):
        index.setdefault((normalise_provider(price.provider), price.model.lower()), []).append(
            price
        )
    return index
