"""Clerk webhooks arrive through Svix: verified with the `svix` library itself.

The signature covers `svix-id.svix-timestamp.body`; the library refuses a timestamp
more than five minutes away from now. Replays inside that window are the use case's
to refuse (it records every svix id it applied).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from svix.webhooks import Webhook, WebhookVerificationError

from application.auth_ports import WebhookMessage, WebhookVerifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class SvixWebhookVerifier(WebhookVerifier):
    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookMessage | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        message_id = lowered.get("svix-id") or lowered.get("webhook-id") or ""
        if len(body) > MAX_BODY_BYTES or not message_id or len(message_id) > 200:
            log.warning("clerk webhook refused: missing id or oversized body")
            return None
        try:
            self._webhook.verify(body, lowered)
            payload = json.loads(body)
        except WebhookVerificationError as error:
            log.warning("clerk webhook refused: %s", error)
            return None
        except (ValueError, UnicodeDecodeError):
            log.warning("clerk webhook refused: body is not JSON")
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            log.warning("clerk webhook refused: no event type")
            return None
        data = payload.get("data")
        return WebhookMessage(message_id, payload["type"], data if isinstance(data, dict) else {})
