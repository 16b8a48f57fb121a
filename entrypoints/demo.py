"""A realistic month of synthetic spend, so a new user sees data at once.

Several providers and models from the built-in catalog (and one self-hosted
model the catalog cannot price), agents with nested paths, ~50 customers whose
spend follows a skewed (Zipf-like) distribution, business-hours and weekday
rhythm, a few failed calls, and three caps. Everything goes through the
RecordSpend and ManageCaps use cases, so counters, rollups and alerts are what
real traffic would produce. The same seed on the same day gives the same data,
and a second run stores nothing twice (event ids are derived from the seed).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from application.manage_caps import CapDraft, ManageCaps
from application.record_spend import RecordSpend
from domain.access import Principal, Role
from domain.caps import CapScope, Enforcement
from domain.events import CallStatus, SpendEvent
from domain.money import Money
from domain.periods import Period, window_of
from domain.pricing import PriceCatalog, cost_of
from domain.usage import Usage

BATCH = 500
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 9, 10, 11, 11, 10, 8, 6, 5, 4, 3, 2, 1]
WEEKDAY_FACTOR = [1.0, 1.05, 1.1, 1.05, 0.95, 0.45, 0.35]


@dataclass(frozen=True, slots=True)
class Workload:
    agent: str
    provider: str
    model: str
    weight: int
    input_tokens: int
    output_tokens: int
    operation: str = "chat"
    cache_read_share: float = 0.0
    cache_write_share: float = 0.0
    reasoning_share: float = 0.0


WORKLOADS = (
    Workload("support/triage", "openai", "gpt-4o-mini", 30, 900, 150),
    Workload("support/triage/classifier", "groq", "llama-3.1-8b-instant", 18, 400, 20),
    Workload(
        "support/answer",
        "anthropic",
        "claude-sonnet-4-20250514",
        14,
        3500,
        450,
        cache_read_share=0.6,
        cache_write_share=0.05,
    ),
    Workload("research/planner", "openai", "gpt-4o-2024-08-06", 8, 2500, 700),
    Workload("research/planner/web_search", "google", "gemini-2.5-flash", 10, 6000, 500),
    Workload("research/planner/synthesis", "openai", "o4-mini", 4, 5000, 2500, reasoning_share=0.6),
    Workload("sales/email_writer", "mistral", "mistral-small-latest", 6, 1200, 600),
    Workload(
        "coding/reviewer",
        "anthropic",
        "claude-3-5-haiku-20241022",
        5,
        8000,
        900,
        cache_read_share=0.4,
    ),
    Workload("coding/reviewer/summarizer", "deepseek", "deepseek-chat", 4, 3000, 400),
    Workload(
        "search/indexer", "openai", "text-embedding-3-small", 12, 2000, 0, operation="embedding"
    ),
    Workload("internal/experiments", "selfhosted", "acme-llama-ft-v2", 3, 1500, 300),
)


@dataclass(frozen=True, slots=True)
class DemoReport:
    events: int
    stored: int
    duplicates: int
    cost: Money
    unpriced: int
    caps: tuple[str, ...]


def customers(count: int) -> list[tuple[str, float]]:
    """cus_0001 is the heaviest; weights fall off as 1/rank^1.1 (a few customers dominate)."""
    return [(f"cus_{rank:04d}", 1.0 / rank**1.1) for rank in range(1, count + 1)]


def generate(
    seed: int,
    now: datetime,
    tenant_id: str,
    days: int = 30,
    per_day: int = 700,
    customer_count: int = 50,
) -> list[SpendEvent]:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(f"{seed}:{today.date().isoformat()}")
    people = customers(customer_count)
    names, weights = [c for c, _ in people], [w for _, w in people]
    workload_weights = [w.weight for w in WORKLOADS]
    events = []
    for day_offset in range(days - 1, -1, -1):
        day = today - timedelta(days=day_offset)
        calls = int(per_day * WEEKDAY_FACTOR[day.weekday()] * rng.uniform(0.85, 1.15))
        for _ in range(calls):
            at = day + timedelta(
                hours=rng.choices(range(24), HOUR_WEIGHTS)[0],
                seconds=rng.randrange(3600),
                microseconds=rng.randrange(10**6),
            )
            work = rng.choices(WORKLOADS, workload_weights)[0]
            customer = None if rng.random() < 0.07 else rng.choices(names, weights)[0]
            event = _event(rng, tenant_id, at, work, customer)
            if at <= now:  # the rng is consumed either way, so earlier days stay the same
                events.append(event)
    events.sort(key=lambda e: e.occurred_at)
    return events


def _event(
    rng: random.Random, tenant_id: str, at: datetime, work: Workload, customer: str | None
) -> SpendEvent:
    prompt = max(1, int(rng.lognormvariate(0, 0.6) * work.input_tokens))
    output = int(rng.lognormvariate(0, 0.5) * work.output_tokens)
    cache_read = int(prompt * work.cache_read_share)
    cache_write = int(prompt * work.cache_write_share) if rng.random() < 0.2 else 0
    failed = rng.random() < 0.02
    return SpendEvent(
        tenant_id=tenant_id,
        event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        occurred_at=at,
        provider=work.provider,
        model=work.model,
        usage=Usage(
            input_tokens=prompt - cache_read - cache_write,
            output_tokens=0 if failed else output,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
            reasoning_tokens=0 if failed else int(output * work.reasoning_share),
        ),
        operation=work.operation,
        status=CallStatus.ERROR if failed else CallStatus.OK,
        agent=work.agent,
        customer_id=customer,
        tags={"env": "prod" if rng.random() < 0.9 else "staging"},
        latency_ms=int(rng.lognormvariate(6.5, 0.6)),
    )


def cap_drafts(events: list[SpendEvent], catalog: PriceCatalog, now: datetime) -> list[CapDraft]:
    """Caps sized from the data: the month budget ends ~85 % used, the top customer's daily
    block cap is exhausted today, gpt-4o-mini's weekly alert cap passes 50 %."""

    def spent(period: Period, match: object = None, field: str = "") -> Money:
        window = window_of(period, now)
        total = 0
        for event in events:
            if event.occurred_at in window and (match is None or getattr(event, field) == match):
                price = catalog.resolve(event.provider, event.model, event.occurred_at.date())
                if price is not None and event.status is CallStatus.OK:
                    total += cost_of(event.usage, price).nanos
        return Money(total)

    def cents(amount: Money, factor_percent: int) -> Money:
        nanos = max(amount.nanos * factor_percent // 100, 10**9)
        return Money(-(-nanos // 10**7) * 10**7)

    return [
        CapDraft(
            "Monthly LLM budget",
            CapScope.GLOBAL,
            Period.MONTHLY,
            cents(spent(Period.MONTHLY), 118),
            recipients=("founder@example.com",),
        ),
        CapDraft(
            "Top customer daily limit",
            CapScope.CUSTOMER,
            Period.DAILY,
            cents(spent(Period.DAILY, "cus_0001", "customer_id"), 80),
            enforcement=Enforcement.BLOCK,
            scope_value="cus_0001",
            recipients=("founder@example.com",),
        ),
        CapDraft(
            "gpt-4o-mini weekly",
            CapScope.MODEL,
            Period.WEEKLY,
            cents(spent(Period.WEEKLY, "gpt-4o-mini", "model"), 160),
            scope_value="gpt-4o-mini",
            thresholds=(50, 90, 100),
        ),
    ]


def _batches(events: list[SpendEvent]) -> Iterator[list[SpendEvent]]:
    for start in range(0, len(events), BATCH):
        yield events[start : start + BATCH]


async def load_demo(
    record: RecordSpend,
    manage_caps: ManageCaps,
    catalog: PriceCatalog,
    now: datetime,
    seed: int,
    tenant_id: str,
    days: int = 30,
    per_day: int = 700,
) -> DemoReport:
    principal = Principal.for_member(tenant_id, "demo", Role.OWNER)
    events = generate(seed, now, tenant_id, days, per_day)
    existing = {cap.cap.name for cap in await manage_caps.list(principal)}
    created = []
    for draft in cap_drafts(events, catalog, now):
        if draft.name not in existing:
            await manage_caps.create(principal, draft)
            created.append(draft.name)
    stored = duplicates = unpriced = 0
    cost = Money.zero()
    for batch in _batches(events):
        result = await record(principal, batch)
        stored += len(result.stored)
        duplicates += result.duplicates
        for event in result.stored:
            cost += event.billable_cost
            unpriced += 0 if event.priced else 1
    return DemoReport(len(events), stored, duplicates, cost, unpriced, tuple(created))
