"""API keys, tenants and price overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from domain.money import Money
from domain.tenants import KeyKind, Tenant, hash_api_key
from tests.contract.builders import T0, api_key, new_tenant, price
from tests.contract.conftest import Backend


async def test_keys_are_found_by_hash_across_tenants(backend: Backend) -> None:
    first, second = new_tenant(), new_tenant()
    key_1 = api_key(first, "key_1", f"secret-{first}")
    key_2 = api_key(second, "key_2", f"secret-{second}", kind=KeyKind.MANAGEMENT)
    for tenant, key in ((first, key_1), (second, key_2)):
        async with backend.uow(tenant) as uow:
            await uow.api_keys.add(key)
            await uow.commit()
    async with backend.uow(None) as uow:
        assert await uow.api_keys.by_hash(hash_api_key(f"secret-{second}")) == key_2
        assert await uow.api_keys.by_hash(hash_api_key("nobody's")) is None


async def test_keys_list_get_and_save_per_tenant(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    keys = [
        api_key(tenant, f"key_{i}", f"{tenant}-{i}", created_at=T0 + timedelta(minutes=i))
        for i in (2, 1)
    ]
    async with backend.uow(tenant) as uow:
        for key in keys:
            await uow.api_keys.add(key)
        await uow.commit()
    async with backend.uow(other) as uow:
        await uow.api_keys.add(api_key(other, "key_9", f"{other}-9"))
        await uow.commit()
    revoked = replace(keys[0], revoked_at=T0 + timedelta(hours=1), last_used_at=T0)
    async with backend.uow(tenant) as uow:
        assert [k.id for k in await uow.api_keys.list(tenant)] == ["key_1", "key_2"]
        assert await uow.api_keys.get(tenant, "key_9") is None
        await uow.api_keys.save(revoked)
        await uow.commit()
    async with backend.uow(tenant) as uow:
        found = await uow.api_keys.get(tenant, "key_2")
    assert found == revoked
    assert found is not None and not found.active


async def test_tenants_add_keeps_the_first_and_save_replaces(backend: Backend) -> None:
    tenant_id = new_tenant()
    original = Tenant(tenant_id, "Acme", T0, "Europe/Paris")
    async with backend.uow(tenant_id) as uow:
        await uow.tenants.add(original)
        await uow.commit()
    async with backend.uow(tenant_id) as uow:
        await uow.tenants.add(Tenant(tenant_id, "Impostor", T0))
        await uow.commit()
    async with backend.uow(tenant_id) as uow:
        assert await uow.tenants.get(tenant_id) == original
        renamed = replace(original, name="Acme Corp")
        await uow.tenants.save(renamed)
        await uow.commit()
    async with backend.uow(tenant_id) as uow:
        assert await uow.tenants.get(tenant_id) == renamed
        assert await uow.tenants.get("nobody") is None


async def test_system_jobs_list_every_tenant(backend: Backend) -> None:
    ids = sorted(new_tenant() for _ in range(3))
    for tenant_id in ids:
        async with backend.uow(tenant_id) as uow:
            await uow.tenants.add(Tenant(tenant_id, tenant_id.upper(), T0))
            await uow.commit()
    async with backend.uow(None) as uow:
        listed = [t.id for t in await uow.tenants.list()]
    assert [t for t in listed if t in ids] == ids


async def test_price_overrides_come_back_in_the_order_added(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    prices = [
        price("gpt-4o", date(2025, 1, 1), cache_read=Money.parse("1.25"), source="contract"),
        price("gpt-4o", date(2024, 6, 1), reasoning=Money.parse("0.000000001")),
        price(
            "o1",
            date(2025, 2, 1),
            cache_write=Money(3),
            batch_input=Money(4),
            batch_output=Money(5),
            max_output_tokens=100_000,
            aliases=("o1-pro", "o1-x"),
        ),
        price("gpt-4o", date(2025, 1, 1), input=Money.parse("2")),
    ]
    async with backend.uow(tenant) as uow:
        for one in prices:
            await uow.price_overrides.add(tenant, one)
        await uow.commit()
    async with backend.uow(other) as uow:
        await uow.price_overrides.add(other, price("x", date(2025, 1, 1)))
        await uow.commit()
    async with backend.uow(tenant) as uow:
        assert await uow.price_overrides.list(tenant) == prices
        assert await uow.price_overrides.list(new_tenant()) == []
