"""Settings, read from environment variables only, once, in `Settings.from_env()`.

Nothing here runs at import time: the CLI, the app factory and the worker each
call `from_env()` when they start, and tests build `Settings(...)` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.email.config import EmailConfig, EmailConfigError
from adapters.webhooks.config import WebhookConfig, WebhookConfigError
from application.reservations import FailPolicy

EMBEDDED_DATABASE_URL = "sqlite+aiosqlite:///./llmobserve.db"
MEMORY_DATABASE_URL = "memory://"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8000"
# Kept out of repr() so that a logged Settings never leaks them (EmailConfig and
# WebhookConfig mask their own secrets).
SECRET_FIELDS = frozenset({"clerk_secret_key", "clerk_webhook_secret"})


class SettingsError(ValueError):
    """An environment variable holds a value the collector cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = EMBEDDED_DATABASE_URL
    # The schema owner for `migrate` (PostgreSQL); the service's role is held to row-level
    # security and owns no table. Unset: migrate with database_url.
    migration_database_url: str | None = None
    redis_url: str | None = None
    cap_fail_policy: FailPolicy = FailPolicy.OPEN
    # How old this process's copy of a tenant's caps may be on the cap-check path
    # (a change made in this process applies at once; other processes within this).
    cap_rules_ttl: timedelta = timedelta(seconds=1)
    # How old this process's copy of an API key may be. A revocation through the API
    # drops it at once here and, with Redis, in every other process too: this only bounds
    # a copy whose revocation was never announced (a lost Redis message, a hand edit).
    api_key_cache_ttl: timedelta = timedelta(seconds=10)
    dashboard_url: str = DEFAULT_DASHBOARD_URL
    email: EmailConfig = field(default_factory=EmailConfig)
    alert_webhook: WebhookConfig | None = None
    clerk_secret_key: str | None = None
    clerk_publishable_key: str | None = None
    clerk_jwks_url: str | None = None
    clerk_jwt_key: str | None = None
    clerk_issuer: str | None = None
    clerk_authorized_parties: tuple[str, ...] = ()
    clerk_webhook_secret: str | None = None
    clerk_frontend_api: str | None = None
    # Accounts (docs/auth.md): built-in local accounts, open sign-up, per-key rate limits.
    local_accounts: bool = True
    sign_up_open: bool = True
    # The first local sign-up owns the `default` tenant, where `serve`'s first key and
    # `demo` write; off for platforms whose every customer signs up into its own tenant.
    first_user_claims_default: bool = False  # from_env turns it on unless told otherwise
    api_key_rate_per_second: float = 200.0
    api_key_rate_burst: int = 1000
    # Cap checks, settles and releases: one per LLM call of a hard-block app, so a bucket
    # of their own, sized for the 2,000 checks/s a collector process is built to answer.
    cap_check_rate_per_second: float = 2000.0
    cap_check_rate_burst: int = 4000
    log_level: str = "info"

    @property
    def uses_memory_store(self) -> bool:
        return self.database_url == MEMORY_DATABASE_URL

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    def __repr__(self) -> str:
        shown = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in SECRET_FIELDS and value:
                value = "***"
            shown.append(f"{name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(os.environ if environ is None else environ)
        environ = env.environ
        try:
            email = EmailConfig.from_env(environ)
            alert_webhook = WebhookConfig.from_env(environ)
        except (EmailConfigError, WebhookConfigError) as exc:
            raise SettingsError(str(exc)) from None
        policy = (env.text("LLMOBSERVE_CAP_FAIL_POLICY") or "open").lower()
        if policy not in {p.value for p in FailPolicy}:
            raise SettingsError(
                f"LLMOBSERVE_CAP_FAIL_POLICY must be open or closed, not {policy!r}"
            )
        return cls(
            database_url=env.text("LLMOBSERVE_DATABASE_URL") or EMBEDDED_DATABASE_URL,
            migration_database_url=env.text("LLMOBSERVE_MIGRATION_DATABASE_URL"),
            redis_url=env.text("LLMOBSERVE_REDIS_URL"),
            cap_fail_policy=FailPolicy(policy),
            cap_rules_ttl=timedelta(
                seconds=_non_negative(env, "LLMOBSERVE_CAP_RULES_CACHE_SECONDS", 1.0)
            ),
            api_key_cache_ttl=timedelta(
                seconds=_non_negative(env, "LLMOBSERVE_API_KEY_CACHE_SECONDS", 10.0)
            ),
            dashboard_url=(env.text("LLMOBSERVE_DASHBOARD_URL") or DEFAULT_DASHBOARD_URL).rstrip(
                "/"
            ),
            email=email,
            alert_webhook=alert_webhook,
            clerk_secret_key=env.text("CLERK_SECRET_KEY"),
            clerk_publishable_key=env.text("CLERK_PUBLISHABLE_KEY"),
            clerk_jwks_url=env.text("CLERK_JWKS_URL"),
            clerk_jwt_key=env.text("CLERK_JWT_KEY") or env.text("CLERK_PEM_PUBLIC_KEY"),
            clerk_issuer=env.text("CLERK_ISSUER"),
            clerk_authorized_parties=env.items("CLERK_AUTHORIZED_PARTIES"),
            clerk_webhook_secret=env.text("CLERK_WEBHOOK_SECRET"),
            clerk_frontend_api=env.text("CLERK_FRONTEND_API"),
            local_accounts=(env.text("LLMOBSERVE_LOCAL_ACCOUNTS") or "on").lower()
            not in {"0", "false", "no", "off"},
            sign_up_open=_sign_up_open(env.text("LLMOBSERVE_SIGN_UP")),
            first_user_claims_default=(
                env.text("LLMOBSERVE_FIRST_USER_OWNS_DEFAULT") or "on"
            ).lower()
            not in {"0", "false", "no", "off"},
            api_key_rate_per_second=_non_negative(env, "LLMOBSERVE_API_KEY_RATE_PER_SECOND", 200.0),
            api_key_rate_burst=int(_non_negative(env, "LLMOBSERVE_API_KEY_RATE_BURST", 1000)),
            cap_check_rate_per_second=_non_negative(
                env, "LLMOBSERVE_CAP_CHECK_RATE_PER_SECOND", 2000.0
            ),
            cap_check_rate_burst=int(_non_negative(env, "LLMOBSERVE_CAP_CHECK_RATE_BURST", 4000)),
            log_level=(env.text("LLMOBSERVE_LOG_LEVEL") or "info").lower(),
        )


def _sign_up_open(value: str | None) -> bool:
    mode = (value or "open").lower()
    if mode not in {"open", "invite"}:
        raise SettingsError(f"LLMOBSERVE_SIGN_UP must be open or invite, not {mode!r}")
    return mode == "open"


def _non_negative(env: _Env, name: str, default: float) -> float:
    value = env.text(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None
    if number < 0 or number != number:
        raise SettingsError(f"{name} must be 0 (off) or more, not {value!r}")
    return number


class _Env:
    """Typed reads of the environment; an empty variable counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def items(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in (self.text(name) or "").split(",") if part.strip())
