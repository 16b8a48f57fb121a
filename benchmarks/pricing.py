"""Microseconds to price one event: resolve its price in the catalog, then compute the cost.

The mix is what ingest sees: exact model names, dated snapshots that resolve to
their family (`gpt-4o-2024-08-06` -> `gpt-4o`), provider-prefixed names, cache and
reasoning tokens, and a model the catalog does not know (resolved to None after
trying every candidate name, the slowest path). Each figure is the best of a few
rounds, so a busy machine inflates it less.

    .venv/bin/python benchmarks/pricing.py [--events 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.pricing.catalog_file import load_builtin_catalog
from domain.events import SpendEvent
from domain.pricing import cost_of
from domain.usage import Usage

NAMES = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "openai/gpt-4.1-mini"),
    ("openai", "o4-mini"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("google", "gemini-2.5-flash"),
    ("mistral", "mistral-small-latest"),
    ("deepseek", "deepseek-chat"),
    ("groq", "llama-3.1-8b-instant"),
    ("selfhosted", "acme-llm-ft-2024-05-01"),
]
ON = date(2026, 3, 14)


def events(count: int) -> list[SpendEvent]:
    rng = random.Random(7)
    made = []
    for index in range(count):
        provider, model = NAMES[index % len(NAMES)]
        output = rng.randint(10, 2000)
        usage = Usage(
            rng.randint(100, 8000),
            output,
            rng.randint(0, 4000),
            rng.randint(0, 500),
            rng.randint(0, output),
        )
        made.append(SpendEvent("t", str(index), None, provider, model, usage))  # type: ignore[arg-type]
    return made


def best_us_per_event(work: Callable[[], None], count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter_ns()
        work()
        best = min(best, (time.perf_counter_ns() - started) / count / 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    catalog = load_builtin_catalog()
    batch = events(args.events)
    prices = [catalog.resolve(e.provider, e.model, ON) for e in batch]
    unpriced = sum(price is None for price in prices)

    def resolve() -> None:
        for e in batch:
            catalog.resolve(e.provider, e.model, ON)

    def cost() -> None:
        for e, price in zip(batch, prices, strict=True):
            if price is not None:
                cost_of(e.usage, price)

    def price_event() -> None:
        # What RecordSpend does per event: resolve, then a priced copy of the event.
        for e in batch:
            e.priced_with(catalog.resolve(e.provider, e.model, ON))

    print(
        f"{len(catalog)} catalog prices; {args.events:,} events over {len(NAMES)} model names "
        f"({unpriced:,} unpriced); best of {args.rounds} rounds"
    )
    for label, work in (
        ("resolve (catalog lookup)", resolve),
        ("cost_of (integer cost)", cost),
        ("price one event (resolve + cost + priced copy)", price_event),
    ):
        print(f"  {label:<48} {best_us_per_event(work, args.events, args.rounds):6.2f} us/event")


if __name__ == "__main__":
    main()
