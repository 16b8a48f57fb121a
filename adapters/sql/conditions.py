"""Report filters and cap scopes as SQL conditions, with the domain's matching rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Table, false, literal

from adapters.sql.dialect import has_substring, lowered
from adapters.sql.spend_query import Predicate
from domain.attribution import AGENT_SEPARATOR
from domain.caps import Cap, CapScope
from domain.reports import Dimension, SpendFilter

DIMENSION_COLUMN = {
    Dimension.PROVIDER: "provider",
    Dimension.MODEL: "model",
    Dimension.AGENT: "agent",
    Dimension.CUSTOMER: "customer_id",
}


def filter_condition(spend_filter: SpendFilter) -> Predicate:
    """Exact equality on each dimension the filter names."""
    wanted = {
        "provider": spend_filter.provider,
        "model": spend_filter.model,
        "agent": spend_filter.agent,
        "customer_id": spend_filter.customer_id,
    }

    def conditions(table: Table) -> Sequence[ColumnElement[bool]]:
        found = [table.c[name] == value for name, value in wanted.items() if value is not None]
        if spend_filter.customer_ids is not None:
            found.append(table.c.customer_id.in_(spend_filter.customer_ids))
        return found

    return conditions


def cap_condition(cap: Cap, dialect: str) -> Predicate:
    """What `Cap.matches` says, in SQL: provider and model case-insensitive, an agent cap
    matching any segment of the agent path or the whole path, a customer exactly."""
    value = cap.scope_value or ""

    def conditions(table: Table) -> Sequence[ColumnElement[bool]]:
        columns = table.c
        match cap.scope:
            case CapScope.GLOBAL:
                return ()
            case CapScope.PROVIDER:
                return [lowered(columns.provider, dialect) == value.lower()]
            case CapScope.MODEL:
                # Exact name only; spent_in widens a model cap to its snapshots in Python.
                return [lowered(columns.model, dialect) == value.lower()]
            case CapScope.AGENT:
                if not value:
                    return [false()]
                if AGENT_SEPARATOR in value:  # never one segment: only the whole path matches
                    return [columns.agent == value]
                # '/a/b/' contains '/b/' exactly when b is a segment of a/b (rollups store
                # '' for no agent, which yields '//' and matches nothing).
                path = literal(AGENT_SEPARATOR) + columns.agent + literal(AGENT_SEPARATOR)
                needle = f"{AGENT_SEPARATOR}{value}{AGENT_SEPARATOR}"
                return [has_substring(path, needle, dialect)]
            case CapScope.CUSTOMER:
                return [columns.customer_id == value]

    return conditions
