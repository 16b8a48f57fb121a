"""Form parsing for the cap form: every field checked on the server, each error beside its field.

The domain's own validation still runs in the use case; this layer turns text into
typed values and words the common mistakes for a person rather than a program.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from application.manage_caps import CapDraft
from domain.caps import (
    DEFAULT_THRESHOLDS,
    Cap,
    CapScope,
    Enforcement,
    FailPolicy,
    is_email_address,
)
from domain.money import InvalidMoney, Money
from domain.periods import InvalidTimeZone, Period, zone

CAP_FIELDS = (
    "name",
    "scope",
    "scope_value",
    "period",
    "limit",
    "enforcement",
    "thresholds",
    "timezone",
    "recipients",
    "enabled",
    "fail_policy",
)
# The form's value for "no policy of its own": the API's null, the installation's setting.
INHERIT = ""
_SEPARATORS = re.compile(r"[\s,;]+")
_E = TypeVar("_E", CapScope, Period, Enforcement, FailPolicy)


@dataclass(slots=True)
class CapForm:
    """What the person typed (to show again) and what is wrong with it, by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    draft: CapDraft | None = None
    # An edit posted without the field (a page older than it) keeps the cap's policy.
    fail_policy_posted: bool = True

    @classmethod
    def blank(cls, prefill: Mapping[str, str] | None = None) -> CapForm:
        values = {
            "name": "",
            "scope": CapScope.GLOBAL.value,
            "scope_value": "",
            "period": Period.MONTHLY.value,
            "limit": "",
            "enforcement": Enforcement.ALERT.value,
            "thresholds": ", ".join(str(t) for t in DEFAULT_THRESHOLDS),
            "timezone": "UTC",
            "recipients": "",
            "enabled": "on",
            "fail_policy": INHERIT,
        }
        for key, value in (prefill or {}).items():
            if key in values and key != "enabled":
                values[key] = value[:200]
        return cls(values)

    @classmethod
    def of_cap(cls, cap: Cap) -> CapForm:
        return cls(
            {
                "name": cap.name,
                "scope": cap.scope.value,
                "scope_value": cap.scope_value or "",
                "period": cap.period.value,
                "limit": cap.limit.format(2),
                "enforcement": cap.enforcement.value,
                "thresholds": ", ".join(str(t) for t in cap.thresholds),
                "timezone": cap.timezone,
                "recipients": "\n".join(cap.recipients),
                "enabled": "on" if cap.enabled else "",
                "fail_policy": cap.fail_policy.value if cap.fail_policy else INHERIT,
            }
        )

    def add_error(self, field_name: str, message: str) -> None:
        """An error from the use case, filed under the field the form shows it beside."""
        name = field_name.split("[", 1)[0].split(".", 1)[0]
        self.errors.setdefault(name if name in CAP_FIELDS else "form", message)

    def changes(self) -> dict[str, object]:
        """The draft as a full set of changes, for editing an existing cap."""
        assert self.draft is not None
        d = self.draft
        changes: dict[str, object] = {
            "name": d.name,
            "scope": d.scope,
            "scope_value": d.scope_value if d.scope is not CapScope.GLOBAL else None,
            "period": d.period,
            "limit": d.limit,
            "enforcement": d.enforcement,
            "thresholds": d.thresholds,
            "timezone": d.timezone,
            "recipients": d.recipients,
            "enabled": d.enabled,
        }
        if self.fail_policy_posted:
            changes["fail_policy"] = d.fail_policy
        return changes


def parse_cap_form(posted: Mapping[str, str]) -> CapForm:
    values = {name: (posted.get(name) or "").strip() for name in CAP_FIELDS}
    form = CapForm(values, fail_policy_posted="fail_policy" in posted)
    errors = form.errors
    name = values["name"]
    if not name:
        errors["name"] = "Give the cap a name."
    elif len(name) > 200:
        errors["name"] = "At most 200 characters."
    scope = _choice(CapScope, values["scope"])
    if scope is None:
        errors["scope"] = "Choose a scope."
    scope_value = values["scope_value"]
    if scope is not None and scope is not CapScope.GLOBAL:
        if not scope_value:
            errors["scope_value"] = f"Name the {scope.value} this cap applies to."
        elif len(scope_value) > 200:
            errors["scope_value"] = "At most 200 characters."
    period = _choice(Period, values["period"])
    if period is None:
        errors["period"] = "Choose a period."
    enforcement = _choice(Enforcement, values["enforcement"])
    if enforcement is None:
        errors["enforcement"] = "Choose alert or block."
    limit = _limit(values["limit"], errors)
    thresholds = _thresholds(values["thresholds"], errors)
    timezone = values["timezone"] or "UTC"
    try:
        zone(timezone)
    except InvalidTimeZone:
        errors["timezone"] = "Use an IANA time zone such as UTC or Europe/Paris."
    recipients = _recipients(values["recipients"], errors)
    fail_policy = None
    if values["fail_policy"] != INHERIT:
        fail_policy = _choice(FailPolicy, values["fail_policy"])
        if fail_policy is None:
            errors["fail_policy"] = "Choose inherit, open or closed."
    if errors:
        return form
    assert scope and period and enforcement and limit
    form.draft = CapDraft(
        name=name,
        scope=scope,
        period=period,
        limit=limit,
        enforcement=enforcement,
        scope_value=scope_value if scope is not CapScope.GLOBAL else None,
        thresholds=thresholds,
        timezone=timezone,
        recipients=recipients,
        enabled=bool(values["enabled"]),
        fail_policy=fail_policy,
    )
    return form


def _choice(kind: type[_E], text: str) -> _E | None:
    try:
        return kind(text)
    except ValueError:
        return None


def _limit(text: str, errors: dict[str, str]) -> Money | None:
    cleaned = text.replace("$", "").replace(",", "").replace(" ", "")
    if not cleaned:
        errors["limit"] = "Enter a limit in US dollars, such as 25 or 12.50."
        return None
    try:
        amount = Money.parse(cleaned)
    except InvalidMoney:
        errors["limit"] = "Enter an amount in US dollars, such as 25 or 12.50 (at most 9 decimals)."
        return None
    if amount.nanos <= 0:
        errors["limit"] = "The limit must be more than $0."
        return None
    return amount


def _thresholds(text: str, errors: dict[str, str]) -> tuple[int, ...] | None:
    parts = [p.rstrip("%") for p in _SEPARATORS.split(text) if p]
    if not parts:
        errors["thresholds"] = "Give at least one percentage, such as 50, 80, 100."
        return None
    if not all(p.isdigit() and 1 <= int(p) <= 1000 for p in parts):
        errors["thresholds"] = "Each threshold is a whole percentage from 1 to 1000."
        return None
    return tuple(sorted({int(p) for p in parts}))


def _recipients(text: str, errors: dict[str, str]) -> tuple[str, ...]:
    addresses = tuple(dict.fromkeys(p for p in _SEPARATORS.split(text) if p))
    bad = [a for a in addresses if not is_email_address(a)]
    if bad:
        errors["recipients"] = f"Not an email address: {', '.join(bad[:3])}"
    elif len(addresses) > 50:
        errors["recipients"] = "At most 50 recipients."
    return addresses
