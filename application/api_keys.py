"""API keys: made once, stored as a hash, listed by prefix, revoked for good."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.errors import Invalid, NotFound, require
from application.ports import Clock, IdGenerator, KeyRevocations, UnitOfWorkFactory
from domain.access import Permission, Principal
from domain.tenants import (
    API_KEY_PREFIX,
    KEY_DISPLAY_CHARS,
    ApiKey,
    KeyKind,
    Tenant,
    hash_api_key,
    looks_like_api_key,
)

log = logging.getLogger(__name__)
# A bound on this process's copies, whatever keys are thrown at it.
MAX_REMEMBERED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKey
    secret: str


class ApiKeys:
    """Business rules:
    - the secret is shown once, at creation; only its SHA-256 is stored;
    - a revoked key fails on the next request in this process, and in the others as soon
      as they hear of it (`KeyRevocations`), at the latest when their copy ages (`cache_ttl`);
    - a key of another tenant is not found.

    Authenticating reads the store once per key per `cache_ttl`, not on every request: the
    lookup cost more than a cap check itself. A zero `cache_ttl` reads it every time.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        ids: IdGenerator,
        clock: Clock,
        cache_ttl: timedelta = timedelta(0),
        revocations: KeyRevocations | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._ids = ids
        self._clock = clock
        self._cache_ttl = cache_ttl
        self._revocations = revocations
        # secret hash -> (the key's principal, when it was read from the store)
        self._known: dict[str, tuple[Principal, datetime]] = {}

    async def create(self, principal: Principal, name: str, kind: KeyKind) -> NewApiKey:
        require(principal, Permission.MANAGE_KEYS)
        return await self.issue(principal.tenant_id, name, kind)

    async def issue(self, tenant_id: str, name: str, kind: KeyKind) -> NewApiKey:
        """Issue a key without a caller: the CLI and sign-up use this."""
        if not name.strip() or len(name) > 100:
            raise Invalid("name", "must be 1-100 characters")
        secret = API_KEY_PREFIX + self._ids.new_secret()
        key = ApiKey(
            id=self._ids.new_id("key"),
            tenant_id=tenant_id,
            name=name.strip(),
            kind=kind,
            display_prefix=secret[: len(API_KEY_PREFIX) + KEY_DISPLAY_CHARS],
            secret_hash=hash_api_key(secret),
            created_at=self._clock.now(),
        )
        async with self._uow_factory(tenant_id) as uow:
            if await uow.tenants.get(tenant_id) is None:
                await uow.tenants.add(Tenant(tenant_id, tenant_id, self._clock.now()))
            await uow.api_keys.add(key)
            await uow.commit()
        return NewApiKey(key, secret)

    async def authenticate(self, secret: str) -> Principal | None:
        if not looks_like_api_key(secret):
            return None
        secret_hash = hash_api_key(secret)
        now = self._clock.now()
        known = self._known.get(secret_hash)
        if known is not None and now - known[1] < self._cache_ttl:
            return known[0]
        async with self._uow_factory(None) as uow:
            key = await uow.api_keys.by_hash(secret_hash)
        if key is None or not key.active:
            self._known.pop(secret_hash, None)
            return None  # unknown keys are not remembered: guessing costs a read each
        principal = Principal.for_key(key.tenant_id, key.id, key.kind)
        if self._cache_ttl > timedelta(0):
            if len(self._known) >= MAX_REMEMBERED_KEYS:
                self._known.clear()
            self._known[secret_hash] = (principal, now)
        return principal

    def forget(self, secret_hash: str | None = None) -> None:
        """Drop this process's copy of one key (revoked elsewhere), or of every key."""
        if secret_hash is None:
            self._known.clear()
        else:
            self._known.pop(secret_hash, None)

    async def touch(self, tenant_id: str, key_id: str) -> None:
        async with self._uow_factory(tenant_id) as uow:
            key = await uow.api_keys.get(tenant_id, key_id)
            if key is not None:
                await uow.api_keys.save(replace(key, last_used_at=self._clock.now()))
                await uow.commit()

    async def list(self, principal: Principal) -> list[ApiKey]:
        require(principal, Permission.MANAGE_KEYS)
        async with self._uow_factory(principal.tenant_id) as uow:
            return await uow.api_keys.list(principal.tenant_id)

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        require(principal, Permission.MANAGE_KEYS)
        async with self._uow_factory(principal.tenant_id) as uow:
            key = await uow.api_keys.get(principal.tenant_id, key_id)
            if key is None:
                raise NotFound("api key")
            if key.revoked_at is None:
                key = replace(key, revoked_at=self._clock.now())
                await uow.api_keys.save(key)
                await uow.commit()
        await self._revoked([key])
        return key

    async def revoke_all(self, tenant_id: str) -> int:
        """Revoke every key of a tenant without a caller (its organization was deleted);
        how many were still active."""
        now = self._clock.now()
        async with self._uow_factory(tenant_id) as uow:
            active = [key for key in await uow.api_keys.list(tenant_id) if key.active]
            for key in active:
                await uow.api_keys.save(replace(key, revoked_at=now))
            await uow.commit()
        await self._revoked(active)
        return len(active)

    async def _revoked(self, keys: Sequence[ApiKey]) -> None:
        for key in keys:
            self.forget(key.secret_hash)
            if self._revocations is None:
                continue
            try:
                await self._revocations.announce(key.secret_hash)
            except Exception:  # the revocation stands; other processes' copies age out
                log.warning("could not announce the revocation of key %s", key.id, exc_info=True)
