"""The SES v2 mailer: through moto's SES backend, and the exact call shape via Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_string, policy

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from adapters.email.message import ALERT_ID_HEADER
from adapters.email.ses import SesMailer
from application.ports import OutgoingEmail
from tests.alerts.support import SENDER

REGION = "eu-west-1"
EMAIL = OutgoingEmail(
    to=("ops@acme.example",),
    subject="[LLMObserve · Acme] Monthly: 80% of the monthly limit reached",
    text="plain body",
    html="<p>html body</p>",
    alert_id="alrt_0007",
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


async def test_ses_sends_the_raw_multipart_message(aws: None) -> None:
    boto3.client("sesv2", region_name=REGION).create_email_identity(
        EmailIdentity="alerts@llmobserve.example.com"
    )
    await SesMailer(SENDER, REGION).send(EMAIL)

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    [sent] = backend.sent_messages
    # moto lists the Destination and the To header both: the same single recipient.
    assert set(sent.destinations) == {"ops@acme.example"}
    message = message_from_string(sent.raw_data, policy=policy.default)
    assert message["Subject"] == EMAIL.subject
    assert message[ALERT_ID_HEADER] == "alrt_0007"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "plain body"
    assert html is not None and html.get_content().strip() == "<p>html body</p>"


async def test_ses_refuses_an_unverified_sender_and_the_mailer_raises(aws: None) -> None:
    with pytest.raises(Exception, match="MessageRejected"):
        await SesMailer(SENDER, REGION).send(EMAIL)


async def test_the_configuration_set_is_passed_to_send_email() -> None:
    client = boto3.client(
        "sesv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_email",
            {"MessageId": "m-1"},
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": ["ops@acme.example"]},
                "Content": {"Raw": {"Data": ANY}},
                "ConfigurationSetName": "alerts",
            },
        )
        await SesMailer(SENDER, configuration_set="alerts", client=client).send(EMAIL)
        stubber.assert_no_pending_responses()
