"""EMAIL_PROVIDER picks the mailer; a missing variable is named; the console writes an mbox."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from adapters.email.config import EmailConfig, EmailConfigError, SmtpSecurity
from adapters.email.console import ConsoleMailer
from adapters.email.factory import make_mailer
from adapters.email.message import message_id_for
from adapters.email.sendgrid_mailer import SendGridMailer
from adapters.email.ses import SesMailer
from adapters.email.smtp import SmtpMailer
from application.ports import OutgoingEmail


def mailer_for(**env: str) -> object:
    return make_mailer(EmailConfig.from_env(env))


def test_console_is_the_default(tmp_mail_file: Path) -> None:
    assert isinstance(mailer_for(), ConsoleMailer)
    config = EmailConfig.from_env({"LLMOBSERVE_MAIL_FILE": str(tmp_mail_file)})
    assert config.mail_file == str(tmp_mail_file)


def test_each_provider_is_chosen_by_name() -> None:
    assert isinstance(
        mailer_for(EMAIL_PROVIDER="smtp", SMTP_HOST="mail.example.com", FROM_EMAIL="a@example.com"),
        SmtpMailer,
    )
    assert isinstance(
        mailer_for(EMAIL_PROVIDER="SendGrid", SENDGRID_API_KEY="SG.x", FROM_EMAIL="a@example.com"),
        SendGridMailer,
    )
    assert isinstance(
        mailer_for(EMAIL_PROVIDER="ses", AWS_REGION="eu-west-1", FROM_EMAIL="a@example.com"),
        SesMailer,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EMAIL_PROVIDER": "smtp", "FROM_EMAIL": "a@example.com"}, "SMTP_HOST"),
        ({"EMAIL_PROVIDER": "smtp", "SMTP_HOST": "mail.example.com"}, "FROM_EMAIL"),
        (
            {
                "EMAIL_PROVIDER": "smtp",
                "SMTP_HOST": "h",
                "FROM_EMAIL": "a@example.com",
                "SMTP_USERNAME": "u",
            },
            "SMTP_PASSWORD",
        ),
        ({"EMAIL_PROVIDER": "sendgrid", "FROM_EMAIL": "a@example.com"}, "SENDGRID_API_KEY"),
        ({"EMAIL_PROVIDER": "sendgrid", "SENDGRID_API_KEY": "SG.x"}, "FROM_EMAIL"),
        ({"EMAIL_PROVIDER": "ses", "FROM_EMAIL": "a@example.com"}, "AWS_REGION"),
    ],
)
def test_a_missing_variable_is_named(env: dict[str, str], variable: str) -> None:
    with pytest.raises(EmailConfigError, match=variable):
        make_mailer(EmailConfig.from_env(env))


def test_bad_values_are_refused_with_the_variable_name() -> None:
    with pytest.raises(EmailConfigError, match="EMAIL_PROVIDER"):
        EmailConfig.from_env({"EMAIL_PROVIDER": "pigeon"})
    with pytest.raises(EmailConfigError, match="SMTP_PORT"):
        EmailConfig.from_env({"SMTP_PORT": "five"})
    with pytest.raises(EmailConfigError, match="SMTP_SECURITY"):
        EmailConfig.from_env({"SMTP_SECURITY": "maybe"})


def test_smtp_security_follows_the_port_unless_configured() -> None:
    assert EmailConfig.from_env({"SMTP_PORT": "587"}).security is SmtpSecurity.STARTTLS
    assert EmailConfig.from_env({"SMTP_PORT": "465"}).security is SmtpSecurity.TLS
    assert EmailConfig.from_env({"SMTP_PORT": "25"}).security is SmtpSecurity.NONE
    assert (
        EmailConfig.from_env({"SMTP_PORT": "2525", "SMTP_SECURITY": "starttls"}).security
        is SmtpSecurity.STARTTLS
    )


def test_secrets_stay_out_of_repr() -> None:
    config = EmailConfig.from_env({"SMTP_PASSWORD": "hunter2", "SENDGRID_API_KEY": "SG.secret"})
    assert "hunter2" not in repr(config) and "SG.secret" not in repr(config)


async def test_the_console_mailer_appends_each_message_to_an_mbox(tmp_mail_file: Path) -> None:
    mailer = ConsoleMailer("LLMObserve <alerts@llmobserve.localhost>", tmp_mail_file)
    for n in (1, 2):
        await mailer.send(
            OutgoingEmail(
                ("ops@acme.example",), f"subject {n}", "text", "<p>x</p>", alert_id=f"alrt_{n}"
            )
        )
    messages = list(mailbox.mbox(tmp_mail_file))
    assert [m["Subject"] for m in messages] == ["subject 1", "subject 2"]
    assert messages[0]["Message-ID"] == message_id_for("alrt_1", "alerts@llmobserve.localhost")
