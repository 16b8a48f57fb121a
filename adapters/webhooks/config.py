"""The global alert webhook, from LLMOBSERVE_ALERT_WEBHOOK_URL / _SECRET / _FORMAT."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class WebhookConfigError(ValueError):
    pass


class WebhookFormat(enum.StrEnum):
    JSON = "json"  # the full alert as JSON, signed
    SLACK = "slack"  # {"text": ...} for a Slack (or Mattermost, Discord /slack) incoming webhook


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: str | None = None
    format: WebhookFormat = WebhookFormat.JSON
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:
        return (
            f"WebhookConfig(url={self.url!r}, secret={'***' if self.secret else None}, "
            f"format={self.format.value!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WebhookConfig | None:
        """None when no webhook is configured (email only)."""
        url = environ.get("LLMOBSERVE_ALERT_WEBHOOK_URL", "").strip()
        if not url:
            return None
        if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
            raise WebhookConfigError(
                f"LLMOBSERVE_ALERT_WEBHOOK_URL must be an http(s) URL, not {url!r}"
            )
        raw_format = environ.get("LLMOBSERVE_ALERT_WEBHOOK_FORMAT", "").strip().lower() or "json"
        if raw_format not in {f.value for f in WebhookFormat}:
            raise WebhookConfigError(
                f"LLMOBSERVE_ALERT_WEBHOOK_FORMAT must be json or slack, not {raw_format!r}"
            )
        secret = environ.get("LLMOBSERVE_ALERT_WEBHOOK_SECRET", "").strip() or None
        if raw_format == WebhookFormat.JSON and secret is None:
            raise WebhookConfigError(
                "LLMOBSERVE_ALERT_WEBHOOK_SECRET is needed for the json format: receivers "
                "check the HMAC signature to trust the alert"
            )
        return cls(url=url, secret=secret, format=WebhookFormat(raw_format))
