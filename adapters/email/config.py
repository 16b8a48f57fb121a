"""Email settings, read from the environment the deployment already documents."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_FROM_EMAIL = "LLMObserve <alerts@llmobserve.localhost>"
DEFAULT_MAIL_FILE = "./llmobserve-mail.log"
PROVIDERS = ("console", "smtp", "sendgrid", "ses")
SECRETS = frozenset({"smtp_password", "sendgrid_api_key"})


class EmailConfigError(ValueError):
    """The environment does not describe a usable mailer; the message names the variable."""


class SmtpSecurity(enum.StrEnum):
    STARTTLS = "starttls"  # plain connect, then STARTTLS (submission, port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # plain text: a relay on a trusted network, or a test server

    @classmethod
    def for_port(cls, port: int) -> SmtpSecurity:
        return {587: cls.STARTTLS, 465: cls.TLS}.get(port, cls.NONE)


@dataclass(frozen=True, slots=True)
class EmailConfig:
    provider: str = "console"
    from_email: str | None = None
    mail_file: str = DEFAULT_MAIL_FILE
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: SmtpSecurity | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_validate_certs: bool = True
    sendgrid_api_key: str | None = None
    sendgrid_sandbox: bool = False
    sendgrid_host: str = "https://api.sendgrid.com"
    ses_region: str | None = None
    ses_configuration_set: str | None = None
    ses_endpoint_url: str | None = None

    @property
    def sender(self) -> str:
        return self.from_email or DEFAULT_FROM_EMAIL

    @property
    def security(self) -> SmtpSecurity:
        """Explicit SMTP_SECURITY wins; otherwise the port decides (587, 465, else plain)."""
        return self.smtp_security or SmtpSecurity.for_port(self.smtp_port)

    def __repr__(self) -> str:
        shown = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            shown.append(f"{name}={'***' if name in SECRETS and value else repr(value)}")
        return f"EmailConfig({', '.join(shown)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EmailConfig:
        def text(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        def flag(name: str, default: bool) -> bool:
            value = text(name)
            return default if value is None else value.lower() in {"1", "true", "yes", "on"}

        def number(name: str, default: float) -> float:
            value = text(name)
            try:
                return default if value is None else float(value)
            except ValueError:
                raise EmailConfigError(f"{name} must be a number, not {value!r}") from None

        def integer(name: str, default: int) -> int:
            value = text(name)
            try:
                return default if value is None else int(value)
            except ValueError:
                raise EmailConfigError(f"{name} must be an integer, not {value!r}") from None

        provider = (text("EMAIL_PROVIDER") or "console").lower()
        if provider not in PROVIDERS:
            raise EmailConfigError(
                f"EMAIL_PROVIDER must be one of {', '.join(PROVIDERS)}, not {provider!r}"
            )
        security = text("SMTP_SECURITY")
        if security is not None and security.lower() not in {s.value for s in SmtpSecurity}:
            raise EmailConfigError(f"SMTP_SECURITY must be starttls, tls or none, not {security!r}")
        return cls(
            provider=provider,
            from_email=text("FROM_EMAIL"),
            mail_file=text("LLMOBSERVE_MAIL_FILE") or DEFAULT_MAIL_FILE,
            smtp_host=text("SMTP_HOST"),
            smtp_port=integer("SMTP_PORT", 587),
            smtp_security=SmtpSecurity(security.lower()) if security else None,
            smtp_username=text("SMTP_USERNAME"),
            smtp_password=text("SMTP_PASSWORD"),
            smtp_timeout_seconds=number("SMTP_TIMEOUT", 30.0),
            smtp_validate_certs=flag("SMTP_VALIDATE_CERTS", True),
            sendgrid_api_key=text("SENDGRID_API_KEY"),
            sendgrid_sandbox=flag("SENDGRID_SANDBOX", False),
            sendgrid_host=text("SENDGRID_HOST") or "https://api.sendgrid.com",
            ses_region=text("AWS_REGION") or text("AWS_DEFAULT_REGION"),
            ses_configuration_set=text("SES_CONFIGURATION_SET"),
            ses_endpoint_url=text("SES_ENDPOINT_URL"),
        )
