"""Report filters and cap scopes as SQL conditions, with the domain's matching rules.

Each is a small hashable value naming what the SQL depends on (which columns, which
kind of match), with the compared values apart as bound parameters: spend_query keeps
one statement per condition kind, whatever the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, ColumnElement, Table, bindparam, false, literal

from adapters.sql.dialect import has_substring, lowered
from adapters.sql.spend_query import Where
from domain.attribution import AGENT_SEPARATOR
from domain.caps import Cap, CapScope
from domain.reports import Dimension, SpendFilter

DIMENSION_COLUMN = {
    Dimension.PROVIDER: "provider",
    Dimension.MODEL: "model",
    Dimension.AGENT: "agent",
    Dimension.CUSTOMER: "customer_id",
}


@dataclass(frozen=True, slots=True)
class _Equal:
    """Each column in `columns` equals its value; `listed`: customer_id is in a list."""

    columns: tuple[str, ...]
    listed: bool

    def __call__(self, table: Table) -> Sequence[ColumnElement[bool]]:
        found = [table.c[name] == bindparam(f"filter_{name}") for name in self.columns]
        if self.listed:
            found.append(table.c.customer_id.in_(bindparam("filter_customer_ids", expanding=True)))
        return found


def filter_condition(spend_filter: SpendFilter) -> Where:
    """Exact equality on each dimension the filter names."""
    wanted = {
        "provider": spend_filter.provider,
        "model": spend_filter.model,
        "agent": spend_filter.agent,
        "customer_id": spend_filter.customer_id,
    }
    values: dict[str, object] = {
        f"filter_{name}": value for name, value in wanted.items() if value is not None
    }
    columns = tuple(name for name, value in wanted.items() if value is not None)
    listed = spend_filter.customer_ids is not None
    if spend_filter.customer_ids is not None:
        values["filter_customer_ids"] = list(spend_filter.customer_ids)
    return Where(_Equal(columns, listed), values)


@dataclass(frozen=True, slots=True)
class _CapMatch:
    """What `Cap.matches` says, in SQL, for one scope and kind of agent value."""

    scope: CapScope
    dialect: str
    # AGENT only: "segment" (any segment of the path), "path" (the whole path), "nothing".
    agent_match: str = ""

    def __call__(self, table: Table) -> Sequence[ColumnElement[bool]]:
        columns = table.c
        value: BindParameter[str] = bindparam("cap_value")
        match self.scope:
            case CapScope.GLOBAL:
                return ()
            case CapScope.PROVIDER:
                return [lowered(columns.provider, self.dialect) == value]
            case CapScope.MODEL:
                # Exact name only; spent_in widens a model cap to its snapshots in Python.
                return [lowered(columns.model, self.dialect) == value]
            case CapScope.AGENT:
                if self.agent_match == "nothing":
                    return [false()]
                if self.agent_match == "path":
                    return [columns.agent == value]
                # '/a/b/' contains '/b/' exactly when b is a segment of a/b (rollups store
                # '' for no agent, which yields '//' and matches nothing).
                path = literal(AGENT_SEPARATOR) + columns.agent + literal(AGENT_SEPARATOR)
                return [has_substring(path, value, self.dialect)]
            case CapScope.CUSTOMER:
                return [columns.customer_id == value]


def cap_condition(cap: Cap, dialect: str) -> Where:
    """What `Cap.matches` says, in SQL: provider and model case-insensitive, an agent cap
    matching any segment of the agent path or the whole path, a customer exactly."""
    value = cap.scope_value or ""
    match cap.scope:
        case CapScope.GLOBAL:
            return Where(_CapMatch(cap.scope, dialect), {})
        case CapScope.PROVIDER | CapScope.MODEL:
            return Where(_CapMatch(cap.scope, dialect), {"cap_value": value.lower()})
        case CapScope.AGENT if not value:
            return Where(_CapMatch(cap.scope, dialect, "nothing"), {})
        case CapScope.AGENT if AGENT_SEPARATOR in value:
            # Never one segment: only the whole path matches.
            return Where(_CapMatch(cap.scope, dialect, "path"), {"cap_value": value})
        case CapScope.AGENT:
            needle = f"{AGENT_SEPARATOR}{value}{AGENT_SEPARATOR}"
            return Where(_CapMatch(cap.scope, dialect, "segment"), {"cap_value": needle})
        case CapScope.CUSTOMER:
            return Where(_CapMatch(cap.scope, dialect), {"cap_value": value})
