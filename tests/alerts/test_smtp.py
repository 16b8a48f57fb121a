"""The SMTP mailer against a real aiosmtpd server on loopback: plain, STARTTLS + AUTH, TLS."""

from __future__ import annotations

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from adapters.email.config import SmtpSecurity
from adapters.email.message import ALERT_ID_HEADER, message_id_for
from adapters.email.render import AlertEmailRenderer
from adapters.email.smtp import SmtpMailer
from application.alert_context import Contributor
from application.ports import OutgoingEmail
from domain.caps import CapScope
from domain.money import Money
from tests.alerts.servers import SMTP_PASSWORD, SMTP_USER, SelfSignedCertificate, SmtpRecorder
from tests.alerts.support import SENDER, a_cap, an_alert

XSS = "<script>alert('x')</script>"


def alert_email() -> tuple[str, OutgoingEmail]:
    cap = a_cap(scope=CapScope.CUSTOMER, scope_value=XSS, name="Customer cap")
    alert = an_alert(cap)
    context = {
        "cap": cap,
        "tenant_name": "Acme Corp",
        "dashboard_url": "https://llmobserve.example.com",
        "contributors": {
            "models": [Contributor("gpt-4o", Money.parse("6.25"), 12)],
            "agents": [Contributor("planner/research", Money.parse("4"), 7)],
            "customers": [Contributor(XSS, Money.parse("8.50"), 19)],
        },
        "contributors_scope": "cap",
    }
    return alert.id, AlertEmailRenderer().render(alert, context)


def mailer(controller: Controller, security: SmtpSecurity, **kwargs: object) -> SmtpMailer:
    return SmtpMailer(
        host="127.0.0.1",
        port=controller.port,
        sender=SENDER,
        security=security,
        timeout_seconds=10,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_plain_smtp_delivers_both_parts_with_inlined_css_and_escaped_html(
    plain_smtp: Controller, recorder: SmtpRecorder
) -> None:
    alert_id, email = alert_email()
    await mailer(plain_smtp, SmtpSecurity.NONE).send(email)

    [received] = recorder.received
    assert received.mail_from == "alerts@llmobserve.example.com"
    assert received.rcpt_tos == ["ops@acme.example"]
    message = received.message
    assert (
        message["Subject"]
        == "[LLMObserve · Acme Corp] Customer cap: 80% of the monthly limit reached"
    )
    assert message["Message-ID"] == message_id_for(alert_id, SENDER)
    assert message[ALERT_ID_HEADER] == alert_id
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    assert "Acme Corp" in text_body and "$8.50 / $10.00 (85.00%)" in text_body
    assert "gpt-4o: $6.25 (12 calls)" in text_body
    assert XSS in text_body  # plain text is not HTML: shown as typed
    assert "<script>" not in html_body
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html_body
    assert "<style" not in html_body and 'style="' in html_body  # CSS inlined
    assert 'href="https://llmobserve.example.com"' in html_body


async def test_starttls_and_login_as_on_port_587(
    starttls_smtp: Controller, recorder: SmtpRecorder, certificate: SelfSignedCertificate
) -> None:
    _, email = alert_email()
    await mailer(
        starttls_smtp,
        SmtpSecurity.STARTTLS,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        tls_context=certificate.client_context(),
    ).send(email)

    [received] = recorder.received
    assert received.tls and received.authenticated
    assert received.message["Subject"].endswith("80% of the monthly limit reached")


async def test_a_server_requiring_starttls_refuses_a_plain_client(
    starttls_smtp: Controller, recorder: SmtpRecorder
) -> None:
    _, email = alert_email()
    with pytest.raises(aiosmtplib.SMTPException):
        await mailer(
            starttls_smtp, SmtpSecurity.NONE, username=SMTP_USER, password=SMTP_PASSWORD
        ).send(email)
    assert recorder.received == []


async def test_a_wrong_password_raises_so_the_alert_is_retried(
    starttls_smtp: Controller, recorder: SmtpRecorder, certificate: SelfSignedCertificate
) -> None:
    _, email = alert_email()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await mailer(
            starttls_smtp,
            SmtpSecurity.STARTTLS,
            username=SMTP_USER,
            password="wrong",
            tls_context=certificate.client_context(),
        ).send(email)
    assert recorder.received == []


async def test_an_untrusted_certificate_is_refused(
    starttls_smtp: Controller, recorder: SmtpRecorder
) -> None:
    _, email = alert_email()
    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await mailer(
            starttls_smtp, SmtpSecurity.STARTTLS, username=SMTP_USER, password=SMTP_PASSWORD
        ).send(email)
    assert recorder.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_and_login_as_on_port_465(
    implicit_tls_smtp: Controller, recorder: SmtpRecorder, certificate: SelfSignedCertificate
) -> None:
    _, email = alert_email()
    await mailer(
        implicit_tls_smtp,
        SmtpSecurity.TLS,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        tls_context=certificate.client_context(),
    ).send(email)

    [received] = recorder.received
    assert received.authenticated
    assert received.message.get_body(("html",)) is not None


async def test_an_unreachable_server_raises() -> None:
    from tests.alerts.servers import free_port

    _, email = alert_email()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await SmtpMailer(
            "127.0.0.1", free_port(), SENDER, SmtpSecurity.NONE, timeout_seconds=5
        ).send(email)
