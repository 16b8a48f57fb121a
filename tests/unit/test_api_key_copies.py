"""API keys: each process keeps a short-lived copy of the keys it has authenticated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.system import RandomIds
from application.api_keys import ApiKeys
from domain.access import Principal
from domain.tenants import KeyKind, hash_api_key
from tests.support.clock import MutableClock

TTL = timedelta(seconds=10)


class CountingStore:
    def __init__(self) -> None:
        self.inner = MemoryUnitOfWorkFactory()
        self.reads = 0

    @asynccontextmanager
    async def __call__(self, tenant_id: str | None) -> AsyncIterator[Any]:
        self.reads += 1
        async with self.inner(tenant_id) as uow:
            yield uow


class Announcements:
    def __init__(self) -> None:
        self.heard: list[str] = []

    async def announce(self, secret_hash: str) -> None:
        self.heard.append(secret_hash)


def owner() -> Principal:
    return Principal.for_key("default", "key_admin", KeyKind.MANAGEMENT)


async def test_a_known_key_is_answered_without_reading_the_store(clock: MutableClock) -> None:
    store = CountingStore()
    keys = ApiKeys(store, RandomIds(), clock, TTL)  # type: ignore[arg-type]
    issued = await keys.issue("default", "ingest", KeyKind.INGEST)
    store.reads = 0

    first = await keys.authenticate(issued.secret)
    again = [await keys.authenticate(issued.secret) for _ in range(20)]

    assert first is not None and all(principal == first for principal in again)
    assert store.reads == 1


async def test_a_key_revoked_here_fails_on_the_next_request_and_is_announced(
    clock: MutableClock,
) -> None:
    store = CountingStore()
    heard = Announcements()
    keys = ApiKeys(store, RandomIds(), clock, TTL, heard)  # type: ignore[arg-type]
    issued = await keys.issue("default", "ingest", KeyKind.INGEST)
    assert await keys.authenticate(issued.secret) is not None

    await keys.revoke(owner(), issued.key.id)

    assert await keys.authenticate(issued.secret) is None
    assert heard.heard == [hash_api_key(issued.secret)]


async def test_a_revocation_heard_from_another_process_applies_at_once(
    clock: MutableClock,
) -> None:
    store = CountingStore()
    here = ApiKeys(store, RandomIds(), clock, TTL)  # type: ignore[arg-type]
    elsewhere = ApiKeys(store, RandomIds(), clock, TTL)  # type: ignore[arg-type]
    issued = await here.issue("default", "ingest", KeyKind.INGEST)
    assert await here.authenticate(issued.secret) is not None

    await elsewhere.revoke(owner(), issued.key.id)
    assert await here.authenticate(issued.secret) is not None  # not heard yet: its copy
    here.forget(hash_api_key(issued.secret))  # what the Redis listener does

    assert await here.authenticate(issued.secret) is None


async def test_an_unannounced_revocation_applies_when_the_copy_ages(clock: MutableClock) -> None:
    store = CountingStore()
    keys = ApiKeys(store, RandomIds(), clock, TTL)  # type: ignore[arg-type]
    issued = await keys.issue("default", "ingest", KeyKind.INGEST)
    assert await keys.authenticate(issued.secret) is not None
    async with store.inner("default") as uow:  # revoked behind this process's back
        await uow.api_keys.save(replace(issued.key, revoked_at=clock.now()))
        await uow.commit()

    clock.advance(seconds=9)
    assert await keys.authenticate(issued.secret) is not None
    clock.advance(seconds=1)
    assert await keys.authenticate(issued.secret) is None


async def test_unknown_keys_are_never_remembered(clock: MutableClock) -> None:
    store = CountingStore()
    keys = ApiKeys(store, RandomIds(), clock, TTL)  # type: ignore[arg-type]
    guess = "llmo_sk_" + "x" * 43
    for _ in range(3):
        assert await keys.authenticate(guess) is None
    assert store.reads == 3


async def test_without_a_lifetime_every_request_reads_the_store(clock: MutableClock) -> None:
    store = CountingStore()
    keys = ApiKeys(store, RandomIds(), clock)  # type: ignore[arg-type]
    issued = await keys.issue("default", "ingest", KeyKind.INGEST)
    store.reads = 0
    for _ in range(3):
        assert await keys.authenticate(issued.secret) is not None
    assert store.reads == 3
