"""Subjects and content for every kind of alert; template errors surface as exceptions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jinja2
import pytest

from adapters.email.render import AlertEmailRenderer
from application.forecast import forecast_of
from domain.alerts import AlertKind
from domain.caps import CapScope
from domain.money import Money
from tests.alerts.support import START, a_cap, an_alert


def test_subject_and_headline_per_kind() -> None:
    cap = a_cap(timezone="Europe/Paris")
    renderer = AlertEmailRenderer()
    cases = {
        AlertKind.THRESHOLD: (80, "Monthly OpenAI: 80% of the monthly limit reached"),
        AlertKind.EXCEEDED: (100, "Monthly OpenAI: monthly limit exceeded"),
        AlertKind.BLOCKED: (100, "Monthly OpenAI: calls blocked by the hard cap"),
    }
    for kind, (threshold, subject) in cases.items():
        email = renderer.render(
            an_alert(cap, kind=kind, threshold=threshold),
            {"cap": cap, "tenant_name": "Acme", "blocked_calls": 37},
        )
        assert email.subject == f"[LLMObserve · Acme] {subject}"
    blocked = renderer.render(
        an_alert(cap, kind=AlertKind.BLOCKED, threshold=100), {"cap": cap, "blocked_calls": 37}
    )
    assert "37 calls refused so far this monthly window" in blocked.text
    assert "Calls refused:  37" in blocked.text
    # Window edges are shown in the cap's own time zone.
    assert "2026-03-01 00:00 to 2026-04-01 00:00 Europe/Paris" in blocked.text


def test_the_forecast_email_names_the_projected_date() -> None:
    cap = a_cap()
    # $4 in the first 10 days of March: the $10 limit falls on day 25, at 00:00.
    alert = an_alert(
        cap,
        kind=AlertKind.FORECAST,
        threshold=100,
        spent=Money.usd(4),
        created_at=START.replace(day=11, hour=0),
    )
    email = AlertEmailRenderer().render(alert, {"cap": cap, "forecast": forecast_of(alert)})
    assert email.subject.endswith(
        "Monthly OpenAI: on track to exceed the monthly limit on 2026-03-26"
    )
    assert "Limit reached at this rate: 2026-03-26 00:00 UTC" in email.text
    assert "Projected at window end:    $12.40" in email.text


def test_a_deleted_cap_still_renders_from_the_alert_row() -> None:
    email = AlertEmailRenderer().render(an_alert(), {})
    assert "unknown (the cap was deleted)" in email.text
    assert email.subject == "[LLMObserve · acme] Monthly OpenAI: 80% of the window limit reached"


def test_an_agent_cap_says_its_top_spenders_are_the_tenants() -> None:
    cap = a_cap(scope=CapScope.AGENT, scope_value="research")
    email = AlertEmailRenderer().render(an_alert(cap), {"cap": cap, "contributors_scope": "tenant"})
    assert "shown for the whole tenant" in email.text


def test_a_broken_template_raises(tmp_path: Path) -> None:
    (tmp_path / "alert.txt").write_text("{{ view.no_such_field }}")
    (tmp_path / "alert.html").write_text("<p>{{ view.cap_name }}</p>")
    with pytest.raises(jinja2.UndefinedError):
        AlertEmailRenderer(tmp_path).render(an_alert(), {})


def test_forecast_math_reproduces_from_the_row() -> None:
    alert = an_alert(
        kind=AlertKind.FORECAST, spent=Money.usd(4), created_at=START.replace(day=11, hour=0)
    )
    forecast = forecast_of(alert)
    assert forecast is not None and forecast.crossing_at is not None
    assert forecast.crossing_at - alert.window_start == timedelta(days=25)
