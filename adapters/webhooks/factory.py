"""The alert webhook the environment asks for, or None for email only."""

from __future__ import annotations

from adapters.webhooks.config import WebhookConfig
from adapters.webhooks.signed_webhook import SignedWebhook
from application.ports import AlertNotifier


def make_webhook(config: WebhookConfig | None) -> AlertNotifier | None:
    return SignedWebhook(config) if config is not None else None
