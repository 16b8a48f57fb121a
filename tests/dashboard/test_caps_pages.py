"""The caps pages: validation beside each field, live progress, and other tenants' caps."""

from __future__ import annotations

import pytest

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
