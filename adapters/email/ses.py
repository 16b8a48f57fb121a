"""Amazon SES v2 through boto3 (`sesv2.send_email`, raw MIME), in a worker thread.

Credentials and region come from the standard AWS variables and files. The raw form
carries our multipart body and the alert id header; SES replaces the Message-ID with its
own, so for SES the alert id header is the duplicate marker.
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.config import Config

from adapters.email.message import build_mime
from application.ports import Mailer, OutgoingEmail


class SesMailer(Mailer):
    def __init__(
        self,
        sender: str,
        region: str | None = None,
        configuration_set: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        self._sender = sender
        self._configuration_set = configuration_set
        self._client = client or boto3.client(
            "sesv2",
            region_name=region,
            endpoint_url=endpoint_url,
            # Bounded waits: a send must finish well inside the dispatcher's step timeout,
            # or a late success could race the retry.
            # One try: the dispatcher owns retries (with backoff and a record of each).
            config=Config(connect_timeout=10, read_timeout=20, retries={"max_attempts": 1}),
        )

    async def send(self, email: OutgoingEmail) -> None:
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": {"Raw": {"Data": build_mime(email, self._sender).as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        # botocore raises ClientError for a refusal (MessageRejected, throttling, ...).
        await asyncio.to_thread(self._client.send_email, **request)
