"""API keys: made once, stored as a hash, listed by prefix, revoked for good."""

from __future__ import annotations

from dataclasses import dataclass, replace

from application.errors import Invalid, NotFound, require
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
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


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKey
    secret: str


class ApiKeys:
    """Business rules:
    - the secret is shown once, at creation; only its SHA-256 is stored;
    - a revoked key fails on the next request: every authentication reads the store;
    - a key of another tenant is not found.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._ids = ids
        self._clock = clock

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
        async with self._uow_factory(None) as uow:
            key = await uow.api_keys.by_hash(hash_api_key(secret))
            if key is None or not key.active:
                return None
        return Principal.for_key(key.tenant_id, key.id, key.kind)

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
        return key
