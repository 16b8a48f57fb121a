"""The built-in price catalog, read from the JSON data file shipped beside this module."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from domain.money import Money
from domain.pricing import ModelPrice, PriceCatalog

DATA_FILE = "models.json"


class CatalogError(ValueError):
    pass


def _money(entry: Mapping[str, Any], name: str) -> Money | None:
    value = entry.get(name)
    return None if value is None else Money.parse(value)


def price_from_entry(entry: Mapping[str, Any]) -> ModelPrice:
    try:
        return ModelPrice(
            provider=entry["provider"],
            model=entry["model"],
            input=Money.parse(entry["input"]),
            output=Money.parse(entry["output"]),
            effective_from=date.fromisoformat(entry["effective_from"]),
            cache_read=_money(entry, "cache_read"),
            cache_write=_money(entry, "cache_write"),
            reasoning=_money(entry, "reasoning"),
            batch_input=_money(entry, "batch_input"),
            batch_output=_money(entry, "batch_output"),
            max_output_tokens=entry.get("max_output_tokens"),
            source=entry.get("source", ""),
            aliases=tuple(entry.get("aliases", ())),
        )
    except (KeyError, ValueError) as exc:
        raise CatalogError(f"bad catalog entry {entry.get('model')!r}: {exc}") from exc


def parse_catalog(document: Mapping[str, Any]) -> PriceCatalog:
    if document.get("unit") != "per_million_tokens" or document.get("currency") != "USD":
        raise CatalogError("the catalog must be USD per million tokens")
    return PriceCatalog.of(price_from_entry(entry) for entry in document["models"])


@lru_cache(maxsize=1)
def load_builtin_catalog() -> PriceCatalog:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_catalog(json.loads(text))
