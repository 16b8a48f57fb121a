"""The SendGrid mailer through the official client, against a loopback stub (`host=`)."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.email.message import ALERT_ID_HEADER
from adapters.email.sendgrid_mailer import SendGridError, SendGridMailer
from application.ports import OutgoingEmail
from tests.alerts.servers import HttpRecorder
from tests.alerts.support import SENDER

EMAIL = OutgoingEmail(
    to=("ops@acme.example", "cfo@acme.example"),
    subject="[LLMObserve · Acme] Monthly: monthly limit exceeded",
    text="plain body",
    html='<p style="color: red">html body</p>',
    alert_id="alrt_0042",
)


async def test_the_request_body_names_sender_recipients_both_parts_and_the_alert() -> None:
    with HttpRecorder(status=202) as stub:
        await SendGridMailer("SG.test-key", SENDER, sandbox=True, host=stub.url).send(EMAIL)

    [request] = stub.requests
    assert request.path == "/v3/mail/send"
    assert request.headers["authorization"] == "Bearer SG.test-key"
    body = request.json()
    assert body["from"] == {"email": "alerts@llmobserve.example.com", "name": "LLMObserve"}
    assert body["subject"] == EMAIL.subject
    assert body["personalizations"][0]["to"] == [
        {"email": "ops@acme.example"},
        {"email": "cfo@acme.example"},
    ]
    assert body["content"] == [
        {"type": "text/plain", "value": "plain body"},
        {"type": "text/html", "value": EMAIL.html},
    ]
    assert body["headers"] == {ALERT_ID_HEADER: "alrt_0042"}
    assert body["custom_args"] == {"llmobserve_alert_id": "alrt_0042"}
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}


async def test_without_sandbox_no_mail_settings_are_sent() -> None:
    with HttpRecorder(status=202) as stub:
        await SendGridMailer("SG.k", SENDER, host=stub.url).send(EMAIL)
    assert "mail_settings" not in stub.requests[0].json()


@pytest.mark.parametrize("status", [400, 401, 429, 500])
async def test_a_non_2xx_answer_raises_with_the_status(status: int) -> None:
    stub = HttpRecorder(status=status, response_body=b'{"errors":[{"message":"nope"}]}')
    with stub, pytest.raises(SendGridError) as raised:
        await SendGridMailer("SG.k", SENDER, host=stub.url).send(EMAIL)
    assert raised.value.status == status
    assert "nope" in str(raised.value)


async def test_the_synchronous_client_does_not_block_the_event_loop() -> None:
    ticks: list[float] = []

    async def heartbeat() -> None:
        for _ in range(10):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.03)

    with HttpRecorder(status=202, delay=0.5) as stub:
        started = time.monotonic()
        await asyncio.gather(SendGridMailer("SG.k", SENDER, host=stub.url).send(EMAIL), heartbeat())
    # The loop kept ticking while the HTTP call waited half a second in its thread.
    assert len([t for t in ticks if t - started < 0.45]) >= 5
