"""The caps pages: validation beside each field, live progress, and other tenants' caps."""

from __future__ import annotations

import pytest

from domain.caps import FailPolicy
from domain.money import Money
from tests.dashboard.conftest import MEMORY_ONLY, Browser, Browsers, event

GOOD = {
    "name": "Monthly budget",
    "scope": "global",
    "scope_value": "",
    "period": "monthly",
    "limit": "0.012",
    "enforcement": "alert",
    "thresholds": "50, 80, 100",
    "timezone": "UTC",
    "recipients": "finance@acme.test",
    "enabled": "on",
}


async def _cap_id(browsers: Browsers, email: str = "owner@acme.test") -> str:
    caps = await browsers.container.manage_caps().list(await browsers.principal(email))
    return caps[0].cap.id


@MEMORY_ONLY
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Give the cap a name."),
        ({"limit": "ten dollars"}, "limit", "Enter an amount in US dollars"),
        ({"limit": "0"}, "limit", "The limit must be more than $0."),
        ({"limit": "-5"}, "limit", "The limit must be more than $0."),
        ({"scope": "customer", "scope_value": ""}, "scope_value", "Name the customer"),
        ({"scope": "galaxy"}, "scope", "Choose a scope."),
        ({"period": "hourly"}, "period", "Choose a period."),
        ({"enforcement": "nuke"}, "enforcement", "Choose alert or block."),
        ({"thresholds": "50, lots"}, "thresholds", "whole percentage from 1 to 1000"),
        ({"thresholds": "0"}, "thresholds", "whole percentage from 1 to 1000"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"recipients": "finance@acme.test, not-an-address"}, "recipients", "not-an-address"),
        ({"limit": "2000000000"}, "limit", "at most"),
        ({"fail_policy": "sideways"}, "fail_policy", "Choose inherit, open or closed."),
    ],
)
async def test_a_bad_cap_form_says_what_is_wrong_beside_the_field(
    owner: Browser, changes: dict[str, str], field: str, message: str
) -> None:
    response = await owner.post("/caps/new", {**GOOD, **changes})

    assert response.status_code == 422
    error = response.text.split(f'id="{field}-error">', 1)
    assert len(error) == 2, response.text
    assert message in error[1].split("</p>", 1)[0]
    assert 'aria-invalid="true"' in response.text
    assert "Traceback" not in response.text
    if changes.get("name", "x"):
        assert 'value="Monthly budget"' in response.text  # what was typed stays


async def test_a_cap_is_created_listed_and_its_bar_moves(
    owner: Browser, browsers: Browsers
) -> None:
    created = await owner.post("/caps/new", GOOD)
    assert created.status_code == 303
    assert created.headers["location"] == "/caps?notice=created"

    before = await owner.get("/caps/progress.json")
    await owner.events(event(), event())  # 2 x $0.006 = $0.012: the whole limit
    after = await owner.get("/caps/progress.json")
    page = await owner.get("/caps")

    assert before.json()["caps"][0]["spent_width"] == "0.0"
    cap = after.json()["caps"][0]
    assert cap["spent_width"] == "100.0"
    assert cap["percent_text"] == "100.00%"
    assert cap["level"] == "over"
    assert "Monthly budget" in page.text
    assert "$0.01" in page.text
    assert 'class="progress over"' in page.text


async def test_a_cap_is_edited_and_deleted(owner: Browser, browsers: Browsers) -> None:
    await owner.post("/caps/new", GOOD)
    cap_id = await _cap_id(browsers)

    form = await owner.get(f"/caps/{cap_id}/edit")
    bad = await owner.post(f"/caps/{cap_id}/edit", {**GOOD, "limit": "nope"})
    saved = await owner.post(
        f"/caps/{cap_id}/edit",
        {**GOOD, "scope": "customer", "scope_value": "cus_1", "enforcement": "block"},
    )
    listed = await owner.get("/caps")
    deleted = await owner.post(f"/caps/{cap_id}/delete", {})

    assert form.status_code == 200
    assert 'value="0.012"' in form.text
    assert bad.status_code == 422
    assert saved.status_code == 303
    assert "customer: cus_1" in listed.text
    assert "blocks calls" in listed.text
    assert deleted.status_code == 303
    assert "No caps yet" in (await owner.get("/caps")).text


async def test_a_cap_keeps_its_fail_policy_from_the_form(
    owner: Browser, browsers: Browsers
) -> None:
    blank = await owner.get("/caps/new")
    created = await owner.post(
        "/caps/new", {**GOOD, "enforcement": "block", "fail_policy": "closed"}
    )
    cap_id = await _cap_id(browsers)
    principal = await browsers.principal("owner@acme.test")
    stored = (await browsers.container.manage_caps().get(principal, cap_id)).cap.fail_policy
    form = await owner.get(f"/caps/{cap_id}/edit")
    listed = await owner.get("/caps")
    opened = await owner.post(f"/caps/{cap_id}/edit", {**GOOD, "fail_policy": "open"})
    after_open = (await browsers.container.manage_caps().get(principal, cap_id)).cap.fail_policy
    inherited = await owner.post(f"/caps/{cap_id}/edit", {**GOOD, "fail_policy": ""})
    after_inherit = (await browsers.container.manage_caps().get(principal, cap_id)).cap.fail_policy

    assert '<option value="" selected>inherit' in blank.text  # the API's default: null
    assert created.status_code == 303
    assert stored is FailPolicy.CLOSED
    assert '<option value="closed" selected>' in form.text
    assert "fails closed" in listed.text
    assert opened.status_code == 303
    assert after_open is FailPolicy.OPEN
    assert inherited.status_code == 303
    assert after_inherit is None
    listed_after = (await owner.get("/caps")).text
    assert "fails open" not in listed_after and "fails closed" not in listed_after


async def test_an_edit_posted_without_the_fail_policy_field_keeps_it(
    owner: Browser, browsers: Browsers
) -> None:
    """A page opened before the field existed must not quietly turn a cap fail-open."""
    await owner.post("/caps/new", {**GOOD, "fail_policy": "closed"})
    cap_id = await _cap_id(browsers)
    principal = await browsers.principal("owner@acme.test")

    saved = await owner.post(f"/caps/{cap_id}/edit", {**GOOD, "limit": "5"})
    cap = (await browsers.container.manage_caps().get(principal, cap_id)).cap

    assert saved.status_code == 303
    assert cap.limit == Money.parse("5")
    assert cap.fail_policy is FailPolicy.CLOSED


@MEMORY_ONLY
@pytest.mark.parametrize("hostile", ["sideways", "inherit", "OPEN", "null", "closed; drop"])
async def test_an_unknown_fail_policy_is_refused_and_nothing_is_saved(
    owner: Browser, browsers: Browsers, hostile: str
) -> None:
    refused_create = await owner.post("/caps/new", {**GOOD, "fail_policy": hostile})
    principal = await browsers.principal("owner@acme.test")
    caps_after_create = await browsers.container.manage_caps().list(principal)
    await owner.post("/caps/new", {**GOOD, "fail_policy": "closed"})
    cap_id = await _cap_id(browsers)
    refused_edit = await owner.post(
        f"/caps/{cap_id}/edit", {**GOOD, "limit": "7", "fail_policy": hostile}
    )
    cap = (await browsers.container.manage_caps().get(principal, cap_id)).cap

    for response in (refused_create, refused_edit):
        assert response.status_code == 422
        error = response.text.split('id="fail_policy-error">', 1)
        assert len(error) == 2, response.text
        assert "Choose inherit, open or closed." in error[1].split("</p>", 1)[0]
        assert 'value="Monthly budget"' in response.text  # what was typed stays
    assert caps_after_create == []
    assert cap.limit == Money.parse("0.012")
    assert cap.fail_policy is FailPolicy.CLOSED


async def test_another_tenants_cap_is_not_found(owner: Browser, browsers: Browsers) -> None:
    await owner.post("/caps/new", GOOD)
    cap_id = await _cap_id(browsers)
    stranger = await browsers.sign_up("stranger@other.test", "Other")

    assert (await stranger.get(f"/caps/{cap_id}/edit")).status_code == 404
    assert (await stranger.post(f"/caps/{cap_id}/edit", GOOD)).status_code == 404
    assert (await stranger.post(f"/caps/{cap_id}/edit", {**GOOD, "limit": "x"})).status_code == 404
    assert (await stranger.post(f"/caps/{cap_id}/delete", {})).status_code == 404
    assert "Monthly budget" not in (await stranger.get("/caps")).text
    assert (await owner.get("/caps")).text.count("Monthly budget") == 1


async def test_the_new_cap_form_is_prefilled_from_a_customer_link(owner: Browser) -> None:
    response = await owner.get("/caps/new?scope=customer&scope_value=cus_9&name=Customer%20cus_9")

    assert 'value="cus_9"' in response.text
    assert '<option value="customer" selected>' in response.text
