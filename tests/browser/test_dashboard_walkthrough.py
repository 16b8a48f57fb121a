"""A founder's first session, in Chromium against the real collector.

sign up -> create an API key -> the SDK's events appear on the overview -> create a
cap -> its progress bar moves as more events arrive -> revoke the key -> an invited
viewer sees no edit controls and is refused when posting anyway. Every page visited
is saved under test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import llmobserve
import openai
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.sdk.fake_provider import FakeProvider

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OWNER = {"name": "Ada Founder", "email": "ada@founder.test", "team": "Founder Labs"}
VIEWER_EMAIL = "vic@founder.test"
PASSWORD = "a long enough password"
# The fake provider bills 1000 plain + 200 cached input and 300 output tokens of
# gpt-4o per call: $0.00575. A $0.05 daily cap is 11.5% per call.
CAP_LIMIT = "0.05"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


def _shot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def _llm_calls(provider: FakeProvider, count: int, customer: str, agent: str) -> None:
    """Calls made by an application instrumented with the SDK, through a real OpenAI client."""
    client = openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)
    with llmobserve.customer(customer), llmobserve.agent(agent):
        for _ in range(count):
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
            )
    assert llmobserve.flush(10), llmobserve.stats()


def _spent_width(page: Page) -> float:
    style = page.locator(".cap-row .progress .spent").first.get_attribute("style") or ""
    found = re.search(r"width:\s*([\d.]+)%", style)
    assert found, style
    return float(found.group(1))


def test_a_founder_walks_through_the_dashboard(
    collector: str, chromium: Browser, provider: FakeProvider, screenshots: Path
) -> None:
    owner_context = chromium.new_context(
        base_url=collector, viewport={"width": 1360, "height": 900}
    )
    page = owner_context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())

    # A signed-out visitor is sent to sign in, and the sign-in page offers sign-up.
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fcustomers$"))
    _shot(page, screenshots, "01-sign-in")
    page.click("text=Create an account")

    # Sign up: the first key is shown once.
    page.fill("#name", OWNER["name"])
    page.fill("#email", OWNER["email"])
    page.fill("#password", PASSWORD)
    page.fill("#tenant_name", OWNER["team"])
    _shot(page, screenshots, "02-sign-up")
    page.click("button:has-text('Create account')")
    expect(page.get_by_test_id("first-key")).to_contain_text("llmo_sk_")
    _shot(page, screenshots, "03-welcome-first-key")
    page.click("text=Go to the dashboard")
    expect(page).to_have_url(re.compile(r"/customers$"))  # back to the page first asked for
    page.click("nav >> text=Overview")
    expect(page.get_by_test_id("total-spend")).to_have_text("$0.00")
    _shot(page, screenshots, "04-overview-empty")

    # Create an API key for the SDK: shown once, with a copy button.
    page.click("nav >> text=API keys")
    page.fill("#key-name", "browser-sdk")
    page.select_option("#key-kind", "ingest")
    page.click("button:has-text('Create key')")
    secret = page.get_by_test_id("new-key-secret").inner_text().strip()
    assert secret.startswith("llmo_sk_")
    expect(page.locator("[data-copy-target=new-key-secret]")).to_be_visible()
    _shot(page, screenshots, "05-api-key-created")
    page.goto("/keys")
    assert secret not in page.content()

    # The SDK records calls; they appear on the overview, the customers and the customer.
    llmobserve.observe(collector_url=collector, api_key=secret, flush_interval=0.05)
    try:
        _llm_calls(provider, 2, customer="cus_<b>acme</b>", agent="planner/research")
        page.goto("/")
        expect(page.get_by_test_id("total-spend")).to_have_text("$0.01")
        expect(page.locator("text=cus_<b>acme</b>").first).to_be_visible()  # escaped
        expect(page.locator("text=gpt-4o-2024-08-06").first).to_be_visible()
        assert page.locator("figure.chart svg rect").count() >= 1
        _shot(page, screenshots, "06-overview-with-spend")
        page.click("text=by model")
        expect(page).to_have_url(re.compile(r"by=model"))
        page.go_back()
        expect(page).not_to_have_url(re.compile(r"by=model"))
        page.click("nav >> text=Customers")
        expect(page.get_by_test_id("customers-table")).to_contain_text("cus_<b>acme</b>")
        _shot(page, screenshots, "07-customers")
        page.click("text=cus_<b>acme</b>")
        expect(page.get_by_test_id("customer-id")).to_have_text("cus_<b>acme</b>")
        _shot(page, screenshots, "08-customer")

        # A cap: first a mistake the form explains, then a good one.
        page.goto("/caps/new")
        page.fill("#cap-name", "Daily budget")
        page.fill("#cap-limit", "lots")
        page.click("button:has-text('Create cap')")
        expect(page.locator("#limit-error")).to_contain_text("Enter an amount in US dollars")
        _shot(page, screenshots, "09-cap-form-error")
        page.fill("#cap-limit", CAP_LIMIT)
        page.select_option("#cap-period", "daily")
        page.fill("#cap-recipients", "finance@founder.test")
        page.click("button:has-text('Create cap')")
        expect(page.locator(".cap-row")).to_contain_text("Daily budget")
        before = _spent_width(page)
        assert 20 <= before <= 25, before  # 2 calls: 23%
        _shot(page, screenshots, "10-caps")

        # More calls: the bar moves on its own (the page polls), no reload.
        _llm_calls(provider, 3, customer="cus_<b>acme</b>", agent="planner/research")
        page.wait_for_function(
            "() => parseFloat(document.querySelector('.cap-row .progress .spent').style.width) > 50",
            timeout=30_000,
        )
        assert _spent_width(page) > before
        expect(page.locator(".cap-row [data-field=percent]")).to_have_text("57.50%")
        page.wait_for_timeout(600)  # the bar's CSS transition, for the screenshot
        _shot(page, screenshots, "11-caps-bar-moved")
        page.click("nav >> text=Alerts")
        expect(page.locator("table.data")).to_contain_text("Daily budget")
        _shot(page, screenshots, "12-alerts")
    finally:
        llmobserve.shutdown(timeout=2)

    # Revoke the key: the collector refuses it at once.
    page.goto("/keys")
    row = page.locator("tr", has_text="browser-sdk")
    row.locator("button:has-text('Revoke')").click()
    expect(page.locator(".notice-ok")).to_contain_text("Key revoked")
    expect(page.locator("tr", has_text="browser-sdk")).to_contain_text("revoked")
    _shot(page, screenshots, "13-key-revoked")
    refused = httpx.post(
        f"{collector}/v1/events",
        json={"events": []},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 401

    # Invite a viewer from the team page; the link is shown once.
    page.click("nav >> text=Team")
    page.fill("#invite-email", VIEWER_EMAIL)
    page.select_option("#invite-role", "viewer")
    page.click("button:has-text('Send invitation')")
    link = page.get_by_test_id("invite-link").inner_text().strip()
    _shot(page, screenshots, "14-team-invitation")
    page.goto("/profile")
    _shot(page, screenshots, "15-profile")

    # The viewer signs up with the link, sees the data and no edit controls.
    viewer_context = chromium.new_context(viewport={"width": 1360, "height": 900})
    viewer = viewer_context.new_page()
    viewer.goto(link)
    expect(viewer.locator("h1")).to_have_text("Join your team")
    viewer.fill("#name", "Vic Viewer")
    viewer.fill("#email", VIEWER_EMAIL)
    viewer.fill("#password", PASSWORD)
    viewer.click("button:has-text('Create account')")
    expect(viewer.get_by_test_id("total-spend")).to_have_text("$0.03")
    viewer.goto(f"{collector}/caps")
    expect(viewer.locator(".cap-row")).to_contain_text("Daily budget")
    assert viewer.locator("a:has-text('New cap')").count() == 0
    assert viewer.locator("a:has-text('Edit')").count() == 0
    assert viewer.locator("nav >> text=API keys").count() == 0
    _shot(viewer, screenshots, "16-viewer-caps")
    viewer.goto(f"{collector}/caps/new")
    expect(viewer.locator("h1")).to_have_text("Not allowed")
    _shot(viewer, screenshots, "17-viewer-refused")

    # Posting the form anyway, with the viewer's own valid session token, is refused.
    viewer.goto(f"{collector}/caps")
    token = viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    forced = viewer_context.request.post(
        f"{collector}/caps/new",
        form={
            "csrf_token": token or "",
            "name": "Sneaky",
            "scope": "global",
            "period": "daily",
            "limit": "1000",
            "enforcement": "alert",
            "thresholds": "100",
            "timezone": "UTC",
        },
    )
    assert forced.status == 403
    viewer.reload()
    assert viewer.locator("text=Sneaky").count() == 0

    viewer_context.close()
    owner_context.close()
