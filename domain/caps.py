"""Spending caps: what they match, how much of their window is spent, what a spend crosses."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.attribution import Attribution
from domain.money import Money
from domain.periods import Period, Window, window_of, zone
from domain.pricing import model_name_candidates

DEFAULT_THRESHOLDS: tuple[int, ...] = (50, 80, 100)
MAX_CAP_LIMIT = Money.usd(1_000_000_000)


class CapScope(enum.StrEnum):
    GLOBAL = "global"
    PROVIDER = "provider"
    MODEL = "model"
    AGENT = "agent"
    CUSTOMER = "customer"


class Enforcement(enum.StrEnum):
    ALERT = "alert"
    BLOCK = "block"


class FailPolicy(enum.StrEnum):
    """What a cap check does when the live counters cannot be reached."""

    OPEN = "open"  # let the call through, marked unverified
    CLOSED = "closed"  # refuse it


class InvalidCap(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Cap:
    """A limit on spend in a calendar window, for everything or for one scope value.

    A model cap on "gpt-4o" matches that model, its dated snapshots and its
    provider-prefixed names, but not "gpt-4o-mini"; an agent cap matches an agent anywhere in the call's agent
    path ("research" matches "planner/research").
    """

    id: str
    tenant_id: str
    name: str
    scope: CapScope
    period: Period
    limit: Money
    enforcement: Enforcement = Enforcement.ALERT
    scope_value: str | None = None
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    timezone: str = "UTC"
    recipients: tuple[str, ...] = ()
    enabled: bool = True
    created_at: datetime | None = None
    # None: the installation's policy (LLMOBSERVE_CAP_FAIL_POLICY) decides.
    fail_policy: FailPolicy | None = None

    def __post_init__(self) -> None:
        validate_cap(self)

    def matches(self, attribution: Attribution) -> bool:
        if not self.enabled:
            return False
        match self.scope:
            case CapScope.GLOBAL:
                return True
            case CapScope.PROVIDER:
                return attribution.provider.lower() == (self.scope_value or "").lower()
            case CapScope.MODEL:
                # A cap on a family covers its dated snapshots and provider-prefixed names,
                # as the catalog prices them: "gpt-4o" covers "openai/gpt-4o-2024-08-06".
                wanted = (self.scope_value or "").lower()
                return wanted in model_name_candidates(attribution.provider, attribution.model)
            case CapScope.AGENT:
                return self.scope_value in attribution.agent_segments() or (
                    attribution.agent == self.scope_value
                )
            case CapScope.CUSTOMER:
                return attribution.customer_id == self.scope_value

    def window_at(self, instant: datetime) -> Window:
        return window_of(self.period, instant, self.timezone)

    def with_changes(self, **changes: object) -> Cap:
        return replace(self, **changes)  # type: ignore[arg-type]

    def status(self, spent: Money, reserved: Money = Money(0)) -> CapStatus:
        return CapStatus(limit=self.limit, spent=spent, reserved=reserved)

    def would_allow(self, spent: Money, reserved: Money, amount: Money) -> bool:
        """A block cap lets a reservation through while everything fits under the limit."""
        return spent.nanos + reserved.nanos + amount.nanos <= self.limit.nanos

    def thresholds_reached(self, spent: Money) -> list[int]:
        """Every threshold that `spent` has reached (>=), in ascending order."""
        return [t for t in self.thresholds if spent.nanos * 100 >= self.limit.nanos * t]

    def thresholds_crossed(self, before: Money, after: Money) -> list[int]:
        """Thresholds reached by `after` but not by `before`."""
        already = set(self.thresholds_reached(before))
        return [t for t in self.thresholds_reached(after) if t not in already]


@dataclass(frozen=True, slots=True)
class CapStatus:
    limit: Money
    spent: Money
    reserved: Money = field(default_factory=Money.zero)

    @property
    def remaining(self) -> Money:
        return Money(max(0, self.limit.nanos - self.spent.nanos - self.reserved.nanos))

    @property
    def percent_hundredths(self) -> int:
        """Spent as a percentage of the limit, in hundredths of a percent, rounded down."""
        return self.spent.nanos * 10_000 // self.limit.nanos

    def percent_text(self) -> str:
        whole, hundredths = divmod(self.percent_hundredths, 100)
        return f"{whole}.{hundredths:02d}"

    @property
    def exhausted(self) -> bool:
        return self.spent.nanos >= self.limit.nanos


def validate_cap(cap: Cap) -> None:
    if not cap.name.strip():
        raise InvalidCap("name", "must not be empty")
    if len(cap.name) > 200:
        raise InvalidCap("name", "must be at most 200 characters")
    if not isinstance(cap.limit, Money) or cap.limit.nanos <= 0:
        raise InvalidCap("limit", "must be a positive amount")
    if cap.limit.nanos > MAX_CAP_LIMIT.nanos:
        raise InvalidCap("limit", f"must be at most {MAX_CAP_LIMIT.format(2)}")
    if cap.scope is CapScope.GLOBAL:
        if cap.scope_value not in (None, ""):
            raise InvalidCap("scope_value", "a global cap has no scope value")
    elif not cap.scope_value or not cap.scope_value.strip():
        raise InvalidCap("scope_value", f"a {cap.scope.value} cap needs a scope value")
    elif len(cap.scope_value) > 200:
        raise InvalidCap("scope_value", "must be at most 200 characters")
    if not cap.thresholds:
        raise InvalidCap("thresholds", "need at least one threshold")
    if any(type(t) is not int or not 1 <= t <= 1000 for t in cap.thresholds):
        raise InvalidCap("thresholds", "each threshold is a whole percentage from 1 to 1000")
    if list(cap.thresholds) != sorted(set(cap.thresholds)):
        raise InvalidCap("thresholds", "must be distinct and ascending")
    for index, address in enumerate(cap.recipients):
        if not is_email_address(address):
            raise InvalidCap(f"recipients[{index}]", f"{address!r} is not an email address")
    try:
        zone(cap.timezone)
    except ValueError as exc:
        raise InvalidCap("timezone", str(exc)) from exc


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def is_email_address(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.match(text) is not None


def matching_caps(caps: Iterable[Cap], attribution: Attribution) -> list[Cap]:
    return [cap for cap in caps if cap.matches(attribution)]
