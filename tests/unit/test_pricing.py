from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.pricing.catalog_file import load_builtin_catalog
from domain.money import Money
from domain.pricing import ModelPrice, PriceCatalog, cost_of, model_name_candidates, overrides_index
from domain.usage import Usage

GPT_4O = ModelPrice(
    "openai",
    "gpt-4o",
    Money.parse("2.50"),
    Money.parse("10.00"),
    date(2024, 8, 6),
    cache_read=Money.parse("1.25"),
)
SONNET = ModelPrice(
    "anthropic",
    "claude-sonnet-4-5",
    Money.parse("3"),
    Money.parse("15"),
    date(2025, 9, 29),
    cache_read=Money.parse("0.30"),
    cache_write=Money.parse("3.75"),
)
O1 = ModelPrice(
    "openai",
    "o-reasoner",
    Money.parse("1"),
    Money.parse("4"),
    date(2025, 1, 1),
    reasoning=Money.parse("8"),
)


def test_openai_cost_with_cached_prompt_tokens() -> None:
    usage = Usage.from_openai(prompt_tokens=1000, completion_tokens=500, cached_tokens=200)
    # 800 x 2.50 + 200 x 1.25 + 500 x 10.00 per million = $0.00725
    assert cost_of(usage, GPT_4O) == Money.parse("0.00725")


def test_anthropic_cache_tokens_are_billed_once_each_at_their_own_price() -> None:
    usage = Usage.from_anthropic(
        input_tokens=100,
        output_tokens=200,
        cache_read_input_tokens=10_000,
        cache_creation_input_tokens=2_000,
    )
    # 100 x 3 + 10,000 x 0.30 + 2,000 x 3.75 + 200 x 15 = 13,800 per million
    assert cost_of(usage, SONNET) == Money.parse("0.0138")


def test_reasoning_tokens_use_their_own_price_when_the_model_has_one() -> None:
    usage = Usage(input_tokens=0, output_tokens=1000, reasoning_tokens=400)
    assert cost_of(usage, O1) == Money.parse("0.0056")  # 600 x 4 + 400 x 8


def test_one_rounding_per_event_half_away_from_zero() -> None:
    price = ModelPrice("x", "m", Money.parse("0.0375"), Money.parse("0"), date(2024, 1, 1))
    # 1 token x 37_500_000 nanos / 1e6 = 37.5 nanos -> 38
    assert cost_of(Usage(input_tokens=1), price).nanos == 38
    # 3 tokens = 112.5 -> 113: rounding happens once, not per token (which would give 114)
    assert cost_of(Usage(input_tokens=3), price).nanos == 113


@given(
    st.integers(0, 10**8 - 1),
    st.integers(0, 10**8),
    st.integers(0, 10**8),
    st.integers(0, 10**8),
)
def test_cost_is_monotone_and_within_half_a_nano_of_exact(a: int, b: int, c: int, d: int) -> None:
    usage = Usage(input_tokens=a, output_tokens=b, cache_read_tokens=c, cache_write_tokens=d)
    exact_times_million = (
        a * 2_500_000_000 + b * 10_000_000_000 + c * 1_250_000_000 + d * 2_500_000_000
    )
    cost = cost_of(usage, GPT_4O)
    assert abs(cost.nanos * 1_000_000 - exact_times_million) * 2 <= 1_000_000
    bigger = Usage(input_tokens=a + 1, output_tokens=b, cache_read_tokens=c, cache_write_tokens=d)
    assert cost_of(bigger, GPT_4O) >= cost


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4o", "gpt-4o"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("mistral-large-2411", "mistral-large"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
    ],
)
def test_snapshot_names_resolve_to_their_family(name: str, expected: str) -> None:
    assert expected in model_name_candidates("openai", name)


def test_resolution_prefers_the_dated_entry_then_the_family_then_gives_none() -> None:
    dated = ModelPrice(
        "openai", "gpt-4o-2024-05-13", Money.parse("5"), Money.parse("15"), date(2024, 5, 13)
    )
    catalog = PriceCatalog.of([GPT_4O, dated])
    assert catalog.resolve("openai", "gpt-4o-2024-05-13", date(2025, 1, 1)) is dated
    assert catalog.resolve("openai", "gpt-4o-2024-11-20", date(2025, 1, 1)) is GPT_4O
    assert catalog.resolve("OpenAI", "openai/gpt-4o", date(2025, 1, 1)) is GPT_4O
    assert catalog.resolve("openai", "my-finetune", date(2025, 1, 1)) is None
    assert catalog.resolve("anthropic", "gpt-4o", date(2025, 1, 1)) is None


def test_the_price_in_force_on_the_event_date_is_used() -> None:
    cut = ModelPrice("openai", "gpt-4o", Money.parse("1"), Money.parse("4"), date(2025, 6, 1))
    catalog = PriceCatalog.of([cut, GPT_4O])
    assert catalog.resolve("openai", "gpt-4o", date(2025, 5, 31)) is GPT_4O
    assert catalog.resolve("openai", "gpt-4o", date(2025, 6, 1)) is cut
    assert catalog.resolve("openai", "gpt-4o", date(2024, 1, 1)) is None


def test_a_tenant_override_wins_over_the_table() -> None:
    negotiated = ModelPrice(
        "openai", "gpt-4o", Money.parse("2"), Money.parse("8"), date(2024, 1, 1)
    )
    catalog = PriceCatalog.of([GPT_4O])
    found = catalog.resolve(
        "openai", "gpt-4o-2024-08-06", date(2025, 1, 1), overrides_index([negotiated])
    )
    assert found is negotiated


def test_the_builtin_catalog_loads_and_prices_current_models() -> None:
    catalog = load_builtin_catalog()
    assert len(catalog) >= 80
    for provider, model in [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-3-5-haiku-20241022"),
        ("google", "gemini-2.5-flash"),
        ("mistral", "mistral-small-latest"),
        ("deepseek", "deepseek-chat"),
        ("groq", "llama-3.3-70b-versatile"),
        ("xai", "grok-3"),
    ]:
        price = catalog.resolve(provider, model, date(2026, 11, 1))
        assert price is not None, (provider, model)
        assert price.input.is_positive() and price.source.startswith("https://")
