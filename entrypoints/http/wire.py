"""Conversions shared by the routes: money as decimal strings, instants as RFC 3339."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import msgspec

from application.errors import Invalid
from domain.money import InvalidMoney, Money
from domain.reports import SpendTotals


def money_in(field: str, text: str) -> Money:
    try:
        return Money.parse(text)
    except InvalidMoney as exc:
        raise Invalid(field, f'{exc}; send a decimal string of US dollars such as "0.10"') from None


def money_out(amount: Money) -> str:
    return amount.format()


def instant_in(field: str, text: str | None) -> datetime | None:
    """RFC 3339 with an offset, or a bare date (midnight UTC). A naive time is read as UTC."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid(
            field, f"{text!r} is not an RFC 3339 timestamp or a YYYY-MM-DD date"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class TotalsOut(msgspec.Struct):
    cost: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    unpriced_calls: int
    error_calls: int


def totals_fields(totals: SpendTotals) -> dict[str, object]:
    return {
        "cost": money_out(totals.cost),
        "calls": totals.calls,
        "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens,
        "cache_read_tokens": totals.cache_read_tokens,
        "cache_write_tokens": totals.cache_write_tokens,
        "reasoning_tokens": totals.reasoning_tokens,
        "unpriced_calls": totals.unpriced_calls,
        "error_calls": totals.error_calls,
    }


def totals_out(totals: SpendTotals) -> TotalsOut:
    return TotalsOut(**totals_fields(totals))  # type: ignore[arg-type]
