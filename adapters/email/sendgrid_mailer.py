"""SendGrid through the official client. Its HTTP client is synchronous (urllib), so each
send runs in a worker thread and the event loop never waits on the network."""

from __future__ import annotations

import asyncio
from email.utils import parseaddr
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    CustomArg,
    From,
    Header,
    Mail,
    MailSettings,
    SandBoxMode,
)

from adapters.email.message import ALERT_ID_HEADER, alert_id_of
from application.ports import Mailer, OutgoingEmail

DEFAULT_HOST = "https://api.sendgrid.com"


class SendGridError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"SendGrid answered {status}: {body[:300]}")
        self.status = status


class SendGridMailer(Mailer):
    def __init__(
        self,
        api_key: str,
        sender: str,
        sandbox: bool = False,
        host: str = DEFAULT_HOST,
        timeout_seconds: float = 20.0,
    ) -> None:
        self._api_key = api_key
        self._sender = sender
        self._sandbox = sandbox
        self._host = host
        self._timeout = timeout_seconds

    async def send(self, email: OutgoingEmail) -> None:
        await asyncio.to_thread(self._send_blocking, self.request_body(email))

    def request_body(self, email: OutgoingEmail) -> dict[str, Any]:
        name, address = parseaddr(self._sender)
        mail = Mail(
            from_email=From(address, name or None),
            to_emails=list(email.to),
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        alert_id = alert_id_of(email)
        if alert_id is not None:
            # SendGrid sets its own Message-ID; the alert id travels in a header and in
            # custom_args (echoed by its event webhook) so a duplicate can be traced.
            mail.header = Header(ALERT_ID_HEADER, alert_id)
            mail.custom_arg = CustomArg("llmobserve_alert_id", alert_id)
        if self._sandbox:
            mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
        body: dict[str, Any] = mail.get()
        return body

    def _send_blocking(self, body: dict[str, Any]) -> None:
        # A client per send: the library shares mutable header state between calls,
        # which threads must not share.
        client = SendGridAPIClient(api_key=self._api_key, host=self._host)
        try:
            response = client.client.mail.send.post(request_body=body, timeout=self._timeout)
        except HTTPError as exc:
            raise SendGridError(exc.status_code, _text(exc.body)) from None
        if not 200 <= response.status_code < 300:
            raise SendGridError(response.status_code, _text(response.body))


def _text(body: object) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
