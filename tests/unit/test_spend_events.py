"""SpendEvent: a frozen value whose written-out constructor and pricing keep every field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.events import CallStatus, InvalidEvent, SpendEvent, check_event_fields
from domain.money import Money
from domain.pricing import ModelPrice, cost_of
from domain.usage import Usage

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
PRICE = ModelPrice("openai", "gpt-4o", Money.parse("2.50"), Money.parse("10"), date(2024, 8, 6))


def reported(**changes: Any) -> SpendEvent:
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "event_id": "0190a1b2-0000-7000-8000-000000000001",
        "occurred_at": NOW,
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "usage": Usage(input_tokens=1000, output_tokens=200),
        "operation": "embedding",
        "agent": "support/triage",
        "customer_id": "cus_1",
        "tags": {"env": "prod"},
        "latency_ms": 420,
        "reservation_id": "rsv_1",
        "estimated": True,
    }
    return SpendEvent(**(values | changes))


def other_fields(event: SpendEvent) -> dict[str, Any]:
    return {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)
        if field.name not in ("cost", "priced_model")
    }


def test_a_spend_event_stays_a_frozen_slotted_value() -> None:
    event = reported()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.cost = Money(1)  # type: ignore[misc]
    assert not hasattr(event, "__dict__")
    assert event == reported() and event != reported(customer_id="cus_2")
    assert dataclasses.replace(event, model="gpt-4o") == reported(model="gpt-4o")


def test_defaults_are_those_of_an_unpriced_chat_call() -> None:
    first = SpendEvent("acme", "e1", NOW, "openai", "gpt-4o", Usage())
    second = SpendEvent("acme", "e2", NOW, "openai", "gpt-4o", Usage())
    assert (first.operation, first.status, first.estimated) == ("chat", CallStatus.OK, False)
    assert (first.cost, first.priced_model, first.agent, first.latency_ms) == (
        None,
        None,
        None,
        None,
    )
    assert first.tags == {} and first.tags is not second.tags


def test_a_known_model_is_priced_and_keeps_every_other_field() -> None:
    event = reported()
    priced = event.priced_with(PRICE)
    assert priced.cost == cost_of(event.usage, PRICE) == Money.parse("0.0045")
    assert priced.priced_model == "gpt-4o"
    assert other_fields(priced) == other_fields(event)
    assert event.cost is None  # the reported event is left as it was


def test_an_unknown_model_is_unpriced_never_zero() -> None:
    event = reported()
    assert event.priced_with(None).cost is None
    repriced = event.priced_with(PRICE).priced_with(None)  # a price withdrawn since
    assert (repriced.cost, repriced.priced_model) == (None, None)
    assert other_fields(repriced) == other_fields(event)
    assert not repriced.priced and repriced.billable_cost == Money.zero()


@pytest.mark.parametrize("price", [PRICE, None])
def test_an_error_call_costs_zero_and_keeps_the_priced_model(price: ModelPrice | None) -> None:
    event = reported(status=CallStatus.ERROR)
    priced = event.priced_with(price)
    assert priced.cost == Money.zero() and priced.priced
    assert priced.priced_model == (price.model if price else None)
    assert other_fields(priced) == other_fields(event)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": datetime(2026, 3, 14, 12, 0)}, "occurred_at"),
        ({"occurred_at": datetime(2019, 12, 31, tzinfo=UTC)}, "occurred_at"),
        ({"occurred_at": datetime(2026, 3, 14, 12, 6, tzinfo=UTC)}, "occurred_at"),
        ({"provider": " "}, "provider"),
        ({"model": ""}, "model"),
        ({"provider": "p" * 201}, "provider"),
        ({"model": "m" * 201}, "model"),
        ({"agent": "a" * 201}, "agent"),
        ({"customer_id": "c\x00"}, "customer_id"),
        ({"operation": "o" * 201}, "operation"),
        ({"reservation_id": "r\x00"}, "reservation_id"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"": "v"}}, "tags."),
        ({"tags": {"env": "v" * 201}}, "tags.env"),
        ({"tags": {"env": "v\x00"}}, "tags"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 86_400_001}, "latency_ms"),
    ],
)
def test_each_rule_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event_fields(reported(**changes), NOW)
    assert caught.value.field == field


def test_a_good_event_passes_every_rule() -> None:
    check_event_fields(reported(), NOW)
    check_event_fields(reported(agent=None, customer_id=None, reservation_id=None), NOW)
