"""SMTP through aiosmtplib: STARTTLS on 587, TLS from the first byte on 465, login if asked."""

from __future__ import annotations

import ssl
from email.utils import parseaddr

import aiosmtplib

from adapters.email.config import SmtpSecurity
from adapters.email.message import build_mime
from application.ports import Mailer, OutgoingEmail


class SmtpMailer(Mailer):
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        security: SmtpSecurity | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 30.0,
        validate_certs: bool = True,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security or SmtpSecurity.for_port(port)
        self._username = username
        self._password = password
        self._timeout = timeout_seconds
        self._validate_certs = validate_certs
        self._tls_context = tls_context

    async def send(self, email: OutgoingEmail) -> None:
        """Raises on refusal (SMTPException) or an unreachable server (OSError, timeout)."""
        await aiosmtplib.send(
            build_mime(email, self._sender),
            sender=parseaddr(self._sender)[1],
            recipients=list(email.to),
            hostname=self._host,
            port=self._port,
            username=self._username,
            # aiosmtplib logs in only with both; an empty password is still a login.
            password=(self._password or "") if self._username else None,
            use_tls=self._security is SmtpSecurity.TLS,
            # True demands STARTTLS (no silent downgrade); False never tries it.
            start_tls=self._security is SmtpSecurity.STARTTLS,
            timeout=self._timeout,
            validate_certs=self._validate_certs,
            tls_context=self._tls_context,
        )
