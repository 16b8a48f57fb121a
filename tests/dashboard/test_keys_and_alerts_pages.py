"""API keys (shown once, listed by prefix, revoked for good) and the alert history."""

from __future__ import annotations

import re

from tests.dashboard.conftest import Browser, Browsers, event

_SECRET = re.compile(r'data-testid="new-key-secret">([^<]+)<')


async def test_a_key_is_shown_once_listed_by_prefix_and_revoked(
    owner: Browser, browsers: Browsers
) -> None:
    created = await owner.post("/keys", {"name": "production-api", "kind": "ingest"})
    secret = _SECRET.search(created.text).group(1)  # type: ignore[union-attr]
    listing = await owner.get("/keys")

    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert 'data-copy-target="new-key-secret"' in created.text
    assert secret not in listing.text  # never shown again
    assert f"<code>{secret[:16]}…</code>" in listing.text
    await owner.events(event(), key=secret)
    row = listing.text.split('<td class="key">production-api</td>', 1)[0]
    key_id = row.rsplit('data-key-id="', 1)[1].split('"', 1)[0]

    revoked = await owner.post(f"/keys/{key_id}/revoke", {})
    after = await owner.get(revoked.headers["location"])
    refused = await owner.request(
        "POST",
        "/v1/events",
        json={"events": [event()]},
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert revoked.status_code == 303
    assert "Key revoked." in after.text
    assert after.text.count('<span class="badge badge-danger"') == 1
    assert refused.status_code == 401


async def test_a_key_form_validates_beside_the_field(owner: Browser) -> None:
    nameless = await owner.post("/keys", {"name": " ", "kind": "ingest"})
    odd_kind = await owner.post("/keys", {"name": "x", "kind": "root"})

    assert nameless.status_code == 422
    assert 'id="name-error">Name the key' in nameless.text
    assert odd_kind.status_code == 422
    assert 'id="kind-error">Choose ingest or management.' in odd_kind.text


async def test_another_tenants_key_cannot_be_revoked(owner: Browser, browsers: Browsers) -> None:
    listing = await owner.get("/keys")
    key_id = listing.text.split('data-key-id="', 1)[1].split('"', 1)[0]
    stranger = await browsers.sign_up("stranger@other.test", "Other")

    response = await stranger.post(f"/keys/{key_id}/revoke", {})

    assert response.status_code == 404
    assert "revoked" not in (await owner.get("/keys")).text.split("<tbody>", 1)[1]


async def test_alerts_appear_with_status_and_filter(owner: Browser, browsers: Browsers) -> None:
    await owner.post(
        "/caps/new",
        {
            "name": "Tiny",
            "scope": "global",
            "period": "daily",
            "limit": "0.01",
            "enforcement": "alert",
            "thresholds": "50, 100",
            "timezone": "UTC",
            "recipients": "finance@acme.test",
            "enabled": "on",
        },
    )
    await owner.events(event(), event())  # $0.012 of $0.01: both thresholds

    page = await owner.get("/alerts")
    sent_only = await owner.get("/alerts?status=sent")
    exceeded = await owner.get("/alerts?kind=exceeded")
    bogus = await owner.get("/alerts?status=bogus&since=someday")
    export = await owner.get("/export/alerts.csv?kind=exceeded")

    assert page.status_code == 200
    assert page.text.count('<td class="key">Tiny</td>') == 2
    assert "finance@acme.test" in page.text
    assert "pending" in page.text
    assert "No alerts match these filters" in sent_only.text
    assert exceeded.text.count('<td class="key">Tiny</td>') == 1
    assert bogus.status_code == 200
    assert "Unknown status." in bogus.text
    assert "Use a day such as" in bogus.text
    assert export.text.count("\r\n") == 2  # the header and one alert
    assert ",exceeded,100," in export.text
