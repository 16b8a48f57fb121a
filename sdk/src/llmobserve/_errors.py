"""Exceptions the SDK raises into user code, on purpose and only these."""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any


class LLMObserveError(Exception):
    """Base class of the exceptions raised by llmobserve."""


class SpendingCapExceeded(LLMObserveError):
    """A hard-block spending cap refused the call; the provider was not called.

    ``limit``, ``spent`` and ``reserved`` are ``decimal.Decimal`` US dollars (never
    floats), or None when the collector did not say.
    """

    def __init__(
        self,
        *,
        cap_id: str | None,
        scope: str | None,
        scope_value: str | None,
        limit: decimal.Decimal | None,
        spent: decimal.Decimal | None,
        cap_name: str | None = None,
        period: str | None = None,
        reserved: decimal.Decimal | None = None,
    ) -> None:
        self.cap_id = cap_id
        self.cap_name = cap_name
        self.scope = scope
        self.scope_value = scope_value
        self.period = period
        self.limit = limit
        self.spent = spent
        self.reserved = reserved
        target = scope if not scope_value else f"{scope} {scope_value}"
        name = f" {cap_name!r}" if cap_name else ""
        super().__init__(
            f"spending cap{name} ({target}, {period or 'period'}) blocks this call:"
            f" spent ${spent if spent is not None else '?'}"
            f" of ${limit if limit is not None else '?'}"
        )

    @classmethod
    def from_cap(cls, cap: Mapping[str, Any]) -> SpendingCapExceeded:
        """Build from a ``blocking_cap`` or ``blocked`` entry of the collector's answer."""
        return cls(
            cap_id=_text(cap.get("id", cap.get("cap_id"))),
            cap_name=_text(cap.get("name")),
            scope=_text(cap.get("scope")),
            scope_value=_text(cap.get("scope_value")),
            period=_text(cap.get("period")),
            limit=money(cap.get("limit")),
            spent=money(cap.get("spent")),
            reserved=money(cap.get("reserved")),
        )


class CapCheckUnavailable(LLMObserveError):
    """Caps could not be checked and ``fail_open=False`` forbids calling without a check."""


def money(value: Any) -> decimal.Decimal | None:
    """Parse a decimal-string dollar amount; None for anything else (floats included)."""
    if not isinstance(value, str):
        return None
    try:
        amount = decimal.Decimal(value)
    except decimal.InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
