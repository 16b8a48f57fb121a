"""The signed webhook against a loopback server: HMAC verified, JSON and Slack payloads."""

from __future__ import annotations

import time

import pytest

from adapters.webhooks.config import WebhookConfig, WebhookConfigError, WebhookFormat
from adapters.webhooks.signed_webhook import SignedWebhook, WebhookError
from adapters.webhooks.signing import sign, verify
from application.alert_context import Contributor
from domain.alerts import AlertKind
from domain.money import Money
from tests.alerts.servers import HttpRecorder
from tests.alerts.support import a_cap, an_alert

SECRET = "whsec_test"


def context() -> dict[str, object]:
    return {
        "cap": a_cap(),
        "tenant_name": "Acme <Corp>",
        "dashboard_url": "https://llmobserve.example.com",
        "contributors": {
            "models": [Contributor("gpt-4o", Money.parse("8.5"), 3)],
            "agents": [],
            "customers": [],
        },
        "contributors_scope": "cap",
    }


async def test_the_json_post_is_signed_and_carries_the_alert() -> None:
    alert = an_alert(kind=AlertKind.EXCEEDED, threshold=100, spent=Money.parse("10.5"))
    with HttpRecorder(status=200) as server:
        await SignedWebhook(WebhookConfig(server.url + "/hooks/llmo", SECRET)).notify(
            alert, context()
        )

    [request] = server.requests
    assert request.path == "/hooks/llmo"
    assert verify(
        SECRET, request.headers["x-llmobserve-signature"], request.body, now=int(time.time())
    )
    assert not verify(
        "another secret",
        request.headers["x-llmobserve-signature"],
        request.body,
        now=int(time.time()),
    )
    assert request.headers["x-llmobserve-delivery"] == alert.id
    assert request.headers["x-llmobserve-event"] == "alert.exceeded"
    body = request.json()
    assert body["id"] == alert.id and body["type"] == "alert.exceeded"
    assert (body["spent"], body["limit"], body["percent"]) == ("10.500000", "10.000000", "105.00")
    assert body["tenant"] == {"id": "acme", "name": "Acme <Corp>"}
    assert body["cap"]["id"] == "cap_monthly" and body["cap"]["period"] == "monthly"
    assert body["window"]["start"] == alert.window_start.isoformat()
    assert body["top_contributors"]["models"] == [{"key": "gpt-4o", "cost": "8.500000", "calls": 3}]
    assert body["dashboard_url"] == "https://llmobserve.example.com"


def test_a_signature_goes_stale_and_a_tampered_body_fails() -> None:
    header = sign(SECRET, 1_700_000_000, b'{"a":1}')
    assert verify(SECRET, header, b'{"a":1}', now=1_700_000_100)
    assert not verify(SECRET, header, b'{"a":2}', now=1_700_000_100)
    assert not verify(SECRET, header, b'{"a":1}', now=1_700_000_000 + 301)
    assert not verify(SECRET, "garbage", b'{"a":1}', now=1_700_000_000)


async def test_the_slack_payload_is_text_with_user_data_escaped() -> None:
    with HttpRecorder(status=200) as server:
        config = WebhookConfig(server.url, None, WebhookFormat.SLACK)
        await SignedWebhook(config).notify(an_alert(), context())

    [request] = server.requests
    assert "x-llmobserve-signature" not in request.headers  # no secret configured
    text = request.json()["text"]
    assert list(request.json()) == ["text"]
    assert text.startswith("*[LLMObserve · Acme &lt;Corp&gt;] Monthly OpenAI: 80% of the")
    assert "<https://llmobserve.example.com|Open the dashboard>" in text


@pytest.mark.parametrize("status", [301, 404, 500])
async def test_a_non_2xx_answer_raises_so_the_alert_is_retried(status: int) -> None:
    with HttpRecorder(status=status) as server, pytest.raises(WebhookError):
        await SignedWebhook(WebhookConfig(server.url, SECRET)).notify(an_alert(), context())


def test_configuration_comes_from_the_environment() -> None:
    assert WebhookConfig.from_env({}) is None
    config = WebhookConfig.from_env(
        {
            "LLMOBSERVE_ALERT_WEBHOOK_URL": "https://hooks.example.com/x",
            "LLMOBSERVE_ALERT_WEBHOOK_SECRET": SECRET,
        }
    )
    assert config == WebhookConfig("https://hooks.example.com/x", SECRET, WebhookFormat.JSON)
    assert SECRET not in repr(config)
    slack = WebhookConfig.from_env(
        {
            "LLMOBSERVE_ALERT_WEBHOOK_URL": "https://hooks.slack.com/s",
            "LLMOBSERVE_ALERT_WEBHOOK_FORMAT": "slack",
        }
    )
    assert slack is not None and slack.format is WebhookFormat.SLACK
    with pytest.raises(WebhookConfigError, match="LLMOBSERVE_ALERT_WEBHOOK_SECRET"):
        WebhookConfig.from_env({"LLMOBSERVE_ALERT_WEBHOOK_URL": "https://hooks.example.com/x"})
    with pytest.raises(WebhookConfigError, match="http"):
        WebhookConfig.from_env(
            {"LLMOBSERVE_ALERT_WEBHOOK_URL": "ftp://x", "LLMOBSERVE_ALERT_WEBHOOK_SECRET": SECRET}
        )
