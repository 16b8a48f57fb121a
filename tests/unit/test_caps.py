from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.attribution import Attribution
from domain.caps import Cap, CapScope, Enforcement, InvalidCap
from domain.money import Money
from domain.periods import Period


def cap(scope: CapScope = CapScope.GLOBAL, value: str | None = None, **kw: object) -> Cap:
    fields: dict[str, object] = {
        "id": "cap_1",
        "tenant_id": "t",
        "name": "n",
        "scope": scope,
        "period": Period.MONTHLY,
        "limit": Money.usd(10),
        "scope_value": value,
    }
    fields.update(kw)
    return Cap(**fields)  # type: ignore[arg-type]


CALL = Attribution("openai", "gpt-4o", "planner/research", "cus_1")


@pytest.mark.parametrize(
    ("scope", "value", "matches"),
    [
        (CapScope.GLOBAL, None, True),
        (CapScope.PROVIDER, "OpenAI", True),
        (CapScope.PROVIDER, "anthropic", False),
        (CapScope.MODEL, "gpt-4o", True),
        (CapScope.MODEL, "gpt-4o-mini", False),
        (CapScope.AGENT, "research", True),
        (CapScope.AGENT, "planner", True),
        (CapScope.AGENT, "planner/research", True),
        (CapScope.AGENT, "search", False),
        (CapScope.CUSTOMER, "cus_1", True),
        (CapScope.CUSTOMER, "cus_2", False),
    ],
)
def test_scope_matching(scope: CapScope, value: str | None, matches: bool) -> None:
    assert cap(scope, value).matches(CALL) is matches


def test_a_disabled_cap_matches_nothing() -> None:
    assert not cap(enabled=False).matches(CALL)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"limit": Money(0)}, "limit"),
        ({"limit": Money(-5)}, "limit"),
        ({"scope": CapScope.CUSTOMER}, "scope_value"),
        ({"scope_value": "x"}, "scope_value"),
        ({"thresholds": (80, 50)}, "thresholds"),
        ({"thresholds": (0,)}, "thresholds"),
        ({"thresholds": ()}, "thresholds"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"name": "  "}, "name"),
        ({"recipients": ("ok@example.com", "not-an-address")}, "recipients[1]"),
    ],
)
def test_invalid_caps_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCap) as caught:
        cap(**kw)
    assert caught.value.field == field


def test_thresholds_crossed_by_a_spend() -> None:
    c = cap(thresholds=(50, 80, 100))
    assert c.thresholds_crossed(Money.usd(4), Money.usd(9)) == [50, 80]
    assert c.thresholds_crossed(Money.usd(9), Money.usd(9)) == []
    assert c.thresholds_crossed(Money.usd(0), Money.usd(10)) == [50, 80, 100]
    assert c.thresholds_reached(Money(7_999_999_999)) == [50]


@given(st.integers(0, 10**12), st.integers(0, 10**12))
def test_crossings_over_two_steps_equal_crossings_in_one(a: int, b: int) -> None:
    c = cap(thresholds=(25, 50, 80, 100, 150))
    lo, hi = sorted((a, b))
    mid = (lo + hi) // 2
    two_steps = c.thresholds_crossed(Money(lo), Money(mid)) + c.thresholds_crossed(
        Money(mid), Money(hi)
    )
    assert two_steps == c.thresholds_crossed(Money(lo), Money(hi))


def test_status_and_block_decision() -> None:
    c = cap(enforcement=Enforcement.BLOCK, limit=Money.usd(5))
    status = c.status(Money.parse("4.99"), Money.parse("0.005"))
    assert status.remaining == Money.parse("0.005")
    assert status.percent_text() == "99.80"
    assert c.would_allow(Money.parse("4.99"), Money(0), Money.parse("0.01"))
    assert not c.would_allow(Money.parse("4.99"), Money(1), Money.parse("0.01"))
