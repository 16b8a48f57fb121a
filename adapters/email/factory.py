"""Pick the mailer named by EMAIL_PROVIDER; say which variable is missing when one is."""

from __future__ import annotations

from adapters.email.config import EmailConfig, EmailConfigError
from application.ports import Mailer


def _require(config: EmailConfig, value: str | None, variable: str, meaning: str) -> str:
    if not value:
        raise EmailConfigError(
            f"EMAIL_PROVIDER={config.provider} needs {variable} ({meaning}); it is not set"
        )
    return value


def make_mailer(config: EmailConfig) -> Mailer:
    # Provider libraries are imported only for the provider in use.
    match config.provider:
        case "console":
            from adapters.email.console import ConsoleMailer

            return ConsoleMailer(config.sender, config.mail_file)
        case "smtp":
            from adapters.email.smtp import SmtpMailer

            host = _require(config, config.smtp_host, "SMTP_HOST", "the SMTP server's host name")
            sender = _require(config, config.from_email, "FROM_EMAIL", "the sender address")
            if config.smtp_username and not config.smtp_password:
                _require(config, None, "SMTP_PASSWORD", "SMTP_USERNAME is set, so is a password")
            return SmtpMailer(
                host=host,
                port=config.smtp_port,
                sender=sender,
                security=config.security,
                username=config.smtp_username,
                password=config.smtp_password,
                timeout_seconds=config.smtp_timeout_seconds,
                validate_certs=config.smtp_validate_certs,
            )
        case "sendgrid":
            from adapters.email.sendgrid_mailer import SendGridMailer

            api_key = _require(
                config,
                config.sendgrid_api_key,
                "SENDGRID_API_KEY",
                "an API key with Mail Send permission",
            )
            sender = _require(config, config.from_email, "FROM_EMAIL", "a verified SendGrid sender")
            return SendGridMailer(api_key, sender, config.sendgrid_sandbox, config.sendgrid_host)
        case "ses":
            from adapters.email.ses import SesMailer

            sender = _require(config, config.from_email, "FROM_EMAIL", "an SES-verified identity")
            region = _require(
                config, config.ses_region, "AWS_REGION", "the SES region, or AWS_DEFAULT_REGION"
            )
            return SesMailer(sender, region, config.ses_configuration_set, config.ses_endpoint_url)
        case other:
            raise EmailConfigError(
                f"EMAIL_PROVIDER must be one of console, smtp, sendgrid, ses, not {other!r}"
            )
