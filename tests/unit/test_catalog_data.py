"""Data checks on the built-in price catalog, adapters/pricing/models.json.

Stdlib only and no project imports: this test guards the data file itself, whatever
code later loads it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CATALOG_PATH = Path(__file__).resolve().parents[2] / "adapters" / "pricing" / "models.json"

CATALOG_DATE = dt.date(2026, 11, 26)
PROVIDERS = {"openai", "anthropic", "google", "mistral", "deepseek", "groq", "xai"}
# distinct chat models each provider must have at least
MIN_CHAT_MODELS = {p: 5 for p in PROVIDERS} | {"deepseek": 2}
MIN_TOTAL_CHAT_MODELS = 80
EMBEDDING_PROVIDERS = {"openai", "google", "mistral"}

PRICE_RE = re.compile(r"^[0-9]+(\.[0-9]{1,9})?$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

REQUIRED = ("provider", "model", "input", "output", "effective_from", "source")
PRICE_FIELDS = (
    "input",
    "output",
    "cache_read",
    "cache_write",
    "reasoning",
    "batch_input",
    "batch_output",
)
INT_FIELDS = ("context_window", "max_output_tokens")
ALLOWED = {*REQUIRED, *PRICE_FIELDS, *INT_FIELDS, "aliases", "long_context"}
LONG_CONTEXT_KEYS = {"threshold_tokens", "input", "output"}


def _is_embedding(entry: dict[str, Any]) -> bool:
    return "embed" in entry["model"]


def _label(entry: dict[str, Any]) -> str:
    return f"{entry.get('provider')}/{entry.get('model')}@{entry.get('effective_from')}"


def _price(value: Any) -> Decimal | None:
    """The Decimal of a valid price string, else None."""
    if not isinstance(value, str) or not PRICE_RE.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    with CATALOG_PATH.open(encoding="utf-8") as f:
        data = json.load(f)
    assert isinstance(data, dict), "top level must be a JSON object"
    return data


@pytest.fixture(scope="module")
def entries(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    models = catalog.get("models")
    assert isinstance(models, list), "'models' must be a list"
    assert models, "'models' must not be empty"
    assert all(isinstance(m, dict) for m in models), "every model entry must be an object"
    return models


@pytest.fixture(scope="module")
def chat_models(entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(e["provider"], e["model"]) for e in entries if not _is_embedding(e)}


def test_file_is_valid_json_without_float_prices() -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8")

    def no_floats(s: str) -> Any:
        raise AssertionError(f"floats are not allowed in the catalog, found {s}")

    json.loads(text, parse_float=no_floats)


def test_header(catalog: dict[str, Any]) -> None:
    assert catalog.get("currency") == "USD"
    assert catalog.get("unit") == "per_million_tokens"
    version = catalog.get("version")
    assert isinstance(version, str)
    assert DATE_RE.fullmatch(version)
    assert dt.date.fromisoformat(version) <= CATALOG_DATE


def test_required_and_known_fields(entries: list[dict[str, Any]]) -> None:
    errors = []
    for e in entries:
        missing = [f for f in REQUIRED if f not in e or e[f] in (None, "")]
        if missing:
            errors.append(f"{_label(e)}: missing {missing}")
        unknown = set(e) - ALLOWED
        if unknown:
            errors.append(f"{_label(e)}: unknown fields {sorted(unknown)}")
        model = e.get("model")
        if not isinstance(model, str) or model != model.strip() or not model:
            errors.append(f"{_label(e)}: model must be a non-empty trimmed string")
    assert not errors, "\n".join(errors)


def test_provider_is_known_and_lowercase(entries: list[dict[str, Any]]) -> None:
    bad = [
        _label(e)
        for e in entries
        if not isinstance(e.get("provider"), str)
        or e["provider"] != e["provider"].lower()
        or e["provider"] not in PROVIDERS
    ]
    assert not bad, f"bad provider: {bad}"


def test_prices_are_decimal_strings(entries: list[dict[str, Any]]) -> None:
    errors = []
    for e in entries:
        for field in PRICE_FIELDS:
            if field not in e:
                continue
            value = e[field]
            if field == "reasoning" and value is None:
                continue
            if _price(value) is None:
                errors.append(f"{_label(e)}: {field}={value!r} is not a decimal string")
        lc = e.get("long_context")
        if lc is not None:
            if not isinstance(lc, dict) or set(lc) != LONG_CONTEXT_KEYS:
                keys = sorted(LONG_CONTEXT_KEYS)
                errors.append(f"{_label(e)}: long_context must have exactly {keys}")
                continue
            for field in ("input", "output"):
                if _price(lc[field]) is None:
                    value = lc[field]
                    errors.append(f"{_label(e)}: long_context.{field}={value!r} is not a decimal")
    assert not errors, "\n".join(errors)


def test_price_relations(entries: list[dict[str, Any]]) -> None:
    errors = []
    for e in entries:
        p = {f: _price(e[f]) for f in PRICE_FIELDS if f in e and _price(e[f]) is not None}
        if "output" in p and p["output"] < 0:
            errors.append(f"{_label(e)}: output < 0")
        if "input" in p and not _is_embedding(e) and p["input"] <= 0:
            errors.append(f"{_label(e)}: a chat model's input price must be > 0")
        if "cache_read" in p and "input" in p and p["cache_read"] > p["input"]:
            errors.append(f"{_label(e)}: cache_read > input")
        if "batch_input" in p and "input" in p and p["batch_input"] > p["input"]:
            errors.append(f"{_label(e)}: batch_input > input")
        if "batch_output" in p and "output" in p and p["batch_output"] > p["output"]:
            errors.append(f"{_label(e)}: batch_output > output")
        if ("batch_input" in e) != ("batch_output" in e):
            errors.append(f"{_label(e)}: batch_input and batch_output go together")
        lc = e.get("long_context")
        if isinstance(lc, dict) and set(lc) == LONG_CONTEXT_KEYS:
            thr = lc["threshold_tokens"]
            if not isinstance(thr, int) or isinstance(thr, bool) or thr <= 0:
                errors.append(f"{_label(e)}: long_context.threshold_tokens must be a positive int")
            li, lo = _price(lc["input"]), _price(lc["output"])
            if li is not None and "input" in p and li < p["input"]:
                errors.append(f"{_label(e)}: long_context.input below the base input price")
            if lo is not None and "output" in p and lo < p["output"]:
                errors.append(f"{_label(e)}: long_context.output below the base output price")
    assert not errors, "\n".join(errors)


def test_token_limits_are_positive_ints(entries: list[dict[str, Any]]) -> None:
    errors = []
    for e in entries:
        for field in INT_FIELDS:
            if field in e:
                v = e[field]
                if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                    errors.append(f"{_label(e)}: {field}={v!r} must be a positive int")
        ctx, mo = e.get("context_window"), e.get("max_output_tokens")
        if isinstance(ctx, int) and isinstance(mo, int) and mo > ctx:
            errors.append(f"{_label(e)}: max_output_tokens > context_window")
    assert not errors, "\n".join(errors)


def test_effective_from_is_a_past_iso_date(entries: list[dict[str, Any]]) -> None:
    errors = []
    for e in entries:
        value = e.get("effective_from")
        if not isinstance(value, str) or not DATE_RE.fullmatch(value):
            errors.append(f"{_label(e)}: effective_from must be YYYY-MM-DD")
            continue
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            errors.append(f"{_label(e)}: effective_from {value!r} is not a real date")
            continue
        if day > CATALOG_DATE:
            errors.append(f"{_label(e)}: effective_from is after {CATALOG_DATE}")
    assert not errors, "\n".join(errors)


def test_source_is_https_url(entries: list[dict[str, Any]]) -> None:
    bad = []
    for e in entries:
        url = urlparse(e.get("source") or "")
        if url.scheme != "https" or not url.netloc or " " in e.get("source", ""):
            bad.append(_label(e))
    assert not bad, f"source must be an https URL: {bad}"


def test_no_duplicate_entries(entries: list[dict[str, Any]]) -> None:
    keys = Counter((e["provider"], e["model"], e["effective_from"]) for e in entries)
    dupes = [k for k, n in keys.items() if n > 1]
    assert not dupes, f"duplicate (provider, model, effective_from): {dupes}"


def test_aliases_are_unambiguous(entries: list[dict[str, Any]]) -> None:
    errors = []
    models_by_provider: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        models_by_provider[e["provider"]].add(e["model"])

    # alias -> the models that claim it; several entries of one model (price history) may repeat it
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in entries:
        aliases = e.get("aliases", [])
        if not isinstance(aliases, list) or not all(
            isinstance(a, str) and a.strip() == a and a for a in aliases
        ):
            errors.append(f"{_label(e)}: aliases must be a list of non-empty trimmed strings")
            continue
        if len(set(aliases)) != len(aliases):
            errors.append(f"{_label(e)}: repeated alias")
        for alias in aliases:
            if alias in models_by_provider[e["provider"]]:
                errors.append(f"{_label(e)}: alias {alias!r} is also a model id")
            owners[(e["provider"], alias)].add(e["model"])
    for (provider, alias), models in owners.items():
        if len(models) > 1:
            errors.append(f"{provider}: alias {alias!r} claimed by {sorted(models)}")
    assert not errors, "\n".join(errors)


def test_price_history_entries_differ(entries: list[dict[str, Any]]) -> None:
    """Two entries of one model must differ in something priced, or one is redundant."""
    by_model: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        by_model[(e["provider"], e["model"])].append(e)
    histories = {k: v for k, v in by_model.items() if len(v) > 1}
    assert histories, "expected at least one model with a dated price change"
    errors = []
    for key, versions in histories.items():
        priced = [
            json.dumps({f: e.get(f) for f in (*PRICE_FIELDS, "long_context")}, sort_keys=True)
            for e in versions
        ]
        if len(set(priced)) != len(priced):
            errors.append(f"{key}: two entries with identical prices")
    assert not errors, "\n".join(errors)


def test_catalog_size(chat_models: set[tuple[str, str]]) -> None:
    assert len(chat_models) >= MIN_TOTAL_CHAT_MODELS, len(chat_models)


def test_every_provider_has_several_chat_models(chat_models: set[tuple[str, str]]) -> None:
    per_provider = Counter(provider for provider, _ in chat_models)
    short = {p: per_provider[p] for p, n in MIN_CHAT_MODELS.items() if per_provider[p] < n}
    assert not short, f"too few chat models: {short}"


def test_embedding_models_present(entries: list[dict[str, Any]]) -> None:
    providers = {e["provider"] for e in entries if _is_embedding(e)}
    missing = EMBEDDING_PROVIDERS - providers
    assert not missing, f"no embedding model for {sorted(missing)}"


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o"),
        ("openai", "gpt-4o-mini"),
        ("openai", "o3"),
        ("anthropic", "claude-sonnet-4-5-20250929"),
        ("google", "gemini-2.5-pro"),
        ("mistral", "mistral-large-latest"),
        ("deepseek", "deepseek-chat"),
        ("groq", "llama-3.3-70b-versatile"),
        ("xai", "grok-4-0709"),
    ],
)
def test_well_known_models_present(
    entries: list[dict[str, Any]], provider: str, model: str
) -> None:
    assert any(e["provider"] == provider and e["model"] == model for e in entries)
