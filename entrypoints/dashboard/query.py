"""The state of a report view, kept in the URL query so a link reproduces the view.

Every link and form on the report pages is built from a `ViewQuery`, so the range,
chart options and filters survive navigation, sharing and the back button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from domain.reports import Dimension, SpendFilter
from entrypoints.dashboard.ranges import DayRange, RangeError, day_range

FILTER_FIELDS: tuple[tuple[str, str], ...] = (
    ("provider", "Provider"),
    ("model", "Model"),
    ("agent", "Agent"),
    ("customer", "Customer"),
)
MAX_FILTER_CHARS = 200
GROUPINGS = (Dimension.PROVIDER, Dimension.MODEL)


@dataclass(frozen=True, slots=True)
class ViewQuery:
    range: str = ""
    start: str = ""  # custom range: first day, as typed
    end: str = ""  # custom range: last day, as typed
    bucket: str = ""
    by: str = ""
    provider: str = ""
    model: str = ""
    agent: str = ""
    customer: str = ""
    sort: str = ""
    order: str = ""
    page: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ViewQuery:
        values: dict[str, str] = {}
        for item in fields(cls):
            raw = params.get(item.name)
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            if raw is not None:
                values[item.name] = str(raw).strip()[:MAX_FILTER_CHARS]
        return cls(**values)

    def day_range(self, now: datetime) -> DayRange:
        return day_range(self.range or None, now, self.start or None, self.end or None)

    def checked_range(self, now: datetime) -> tuple[ViewQuery, DayRange, dict[str, str]]:
        """The range asked for; a bad custom range falls back to the default and says why."""
        try:
            return self, self.day_range(now), {}
        except RangeError as error:
            fallback = self.with_(range="", start="", end="")
            return fallback, fallback.day_range(now), {error.field: error.message}

    def group_by(self) -> Dimension:
        return Dimension.MODEL if self.by == Dimension.MODEL.value else Dimension.PROVIDER

    def spend_filter(self, start: datetime, end: datetime, **extra: str | None) -> SpendFilter:
        return SpendFilter(
            start,
            end,
            provider=self.provider or None,
            model=self.model or None,
            agent=self.agent or None,
            customer_id=extra.get("customer_id", self.customer or None),
        )

    def with_(self, **changes: str) -> ViewQuery:
        return replace(self, **changes)

    def params(self) -> dict[str, str]:
        kept = {item.name: getattr(self, item.name) for item in fields(self)}
        if kept["range"] != "custom":
            kept["start"] = kept["end"] = ""
        return {name: value for name, value in kept.items() if value}

    def url(self, path: str, **changes: str) -> str:
        """`path` with this view's query, after `changes` (an empty value drops the key)."""
        params = self.with_(**changes).params() if changes else self.params()
        return f"{path}?{urlencode(params)}" if params else path

    def active_filters(self) -> list[tuple[str, str, str]]:
        """(field, label, value) of each filter in force."""
        return [
            (name, label, getattr(self, name))
            for name, label in FILTER_FIELDS
            if getattr(self, name)
        ]
