"""The composition root: which adapters serve which ports, chosen from settings.

Three infrastructure containers expose the same provider names, so the choice
is one line in `build_container`:
- memory: in-memory store and in-process counters (tests, benchmarks, `memory://`);
- embedded: SQLite through the SQL adapter, in-process counters (the default);
- production: PostgreSQL (any non-SQLite URL) with Redis counters when
  LLMOBSERVE_REDIS_URL is set.
Everything is a Singleton or a Factory, never an async Resource: connections
are opened and closed by the Litestar lifespan and the worker's hooks
(`open_infrastructure` / `close_infrastructure`).
"""

from __future__ import annotations

import asyncio
import logging

from dependency_injector import containers, providers

from adapters.email.factory import make_mailer
from adapters.email.render import AlertEmailRenderer
from adapters.memory.blocked_calls import InProcessBlockedCalls
from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.pricing.catalog_file import load_builtin_catalog
from adapters.redis.blocked_calls import RedisBlockedCalls
from adapters.redis.connection import close_redis, make_redis
from adapters.redis.counters import RedisCounters
from adapters.redis.key_revocations import RedisKeyRevocations
from adapters.sql.database import (
    SqlUnitOfWorkFactory,
    event_batch_writer,
    is_postgres,
    make_engine,
    row_level_security_enforced,
)
from adapters.system import RandomIds, SystemClock
from adapters.webhooks.factory import make_webhook
from application.accounts import LocalAccounts
from application.alert_history import AlertHistory
from application.api_keys import ApiKeys
from application.blocked_alerts import BlockedCallAlerts
from application.blocked_caps import BlockedCaps
from application.cap_alerts import CapAlerts
from application.cap_counters import CapCounters
from application.cap_rules_cache import CapRulesCache
from application.clerk_sync import ClerkSync
from application.dispatch_alerts import DispatchAlerts
from application.event_batches import UnitOfWorkBatchWriter
from application.forecast import ForecastCaps
from application.maintenance import MonitorCaps, ReconcileCounters, SweepReservations
from application.manage_caps import CapProgressReader, ManageCaps
from application.ports import (
    BlockedCallCounter,
    EventBatchWriter,
    KeyRevocations,
    SpendCounters,
    UnitOfWorkFactory,
)
from application.recipients import TenantAdmins
from application.record_spend import RecordSpend
from application.reservations import CheckAndReserve, FinishReservation
from application.spend_reports import SpendReportsService
from application.tenants import ManageMembers, ManageTenants, ReportOnBehalf, TenantAccess
from entrypoints.http.accounts import wiring as accounts
from entrypoints.probes import EngineProbe, InProcessProbe, Probe, RedisProbe, StoreProbe
from entrypoints.settings import Settings

log = logging.getLogger(__name__)


class MemoryInfrastructure(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    uow_factory: providers.Singleton[UnitOfWorkFactory] = providers.Singleton(
        MemoryUnitOfWorkFactory
    )
    counters: providers.Singleton[SpendCounters] = providers.Singleton(InProcessCounters, clock)
    blocked_calls: providers.Singleton[BlockedCallCounter] = providers.Singleton(
        InProcessBlockedCalls, clock
    )
    mailer = providers.Singleton(make_mailer, settings.provided.email)
    renderer = providers.Singleton(AlertEmailRenderer)
    webhook = providers.Singleton(make_webhook, settings.provided.alert_webhook)
    database_probe: providers.Singleton[Probe] = providers.Singleton(StoreProbe, uow_factory)
    counters_probe: providers.Singleton[Probe] = providers.Singleton(InProcessProbe)
    accounts_uow_factory = providers.Singleton(accounts.memory_accounts_uow, uow_factory)
    event_batches: providers.Singleton[EventBatchWriter] = providers.Singleton(
        UnitOfWorkBatchWriter, uow_factory
    )
    rate_limiter = providers.Singleton(accounts.in_process_rate_limiter)
    # One process: a revocation is heard where it is made.
    key_revocations: providers.Provider[KeyRevocations | None] = providers.Object(None)


class EmbeddedInfrastructure(MemoryInfrastructure):
    engine = providers.Singleton(make_engine, MemoryInfrastructure.settings.provided.database_url)
    uow_factory = providers.Singleton(SqlUnitOfWorkFactory, engine)
    database_probe = providers.Singleton(EngineProbe, engine)
    accounts_uow_factory = providers.Singleton(accounts.sql_accounts_uow, engine)
    event_batches = providers.Singleton(event_batch_writer, engine, uow_factory)


class ProductionInfrastructure(EmbeddedInfrastructure):
    redis = providers.Singleton(make_redis, MemoryInfrastructure.settings.provided.redis_url)
    counters = providers.Singleton(RedisCounters, redis, MemoryInfrastructure.clock)
    blocked_calls = providers.Singleton(RedisBlockedCalls, redis)
    counters_probe = providers.Singleton(RedisProbe, redis)
    rate_limiter = providers.Singleton(accounts.redis_rate_limiter, redis)
    key_revocations = providers.Singleton(RedisKeyRevocations, redis)


class Application(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    infra = providers.DependenciesContainer()

    clock = infra.clock
    catalog = providers.Singleton(load_builtin_catalog)
    cap_counters = providers.Singleton(CapCounters, infra.counters, infra.uow_factory)
    cap_alerts = providers.Singleton(CapAlerts, infra.uow_factory, cap_counters, infra.ids)
    cap_rules = providers.Singleton(
        CapRulesCache, infra.uow_factory, infra.clock, settings.provided.cap_rules_ttl
    )
    record_spend = providers.Singleton(
        RecordSpend,
        infra.uow_factory,
        catalog,
        cap_counters,
        cap_alerts,
        infra.clock,
        cap_rules,
        infra.event_batches,
    )
    check_and_reserve = providers.Singleton(
        CheckAndReserve,
        infra.uow_factory,
        catalog,
        cap_counters,
        infra.ids,
        infra.clock,
        settings.provided.cap_fail_policy,
        cap_rules,
    )
    finish_reservation = providers.Singleton(
        FinishReservation, cap_counters, record_spend, infra.clock
    )
    cap_progress = providers.Singleton(CapProgressReader, cap_counters, infra.clock)
    manage_caps = providers.Singleton(
        ManageCaps, infra.uow_factory, cap_progress, infra.ids, infra.clock, cap_rules
    )
    blocked_caps = providers.Singleton(BlockedCaps, infra.uow_factory, cap_progress)
    spend_reports = providers.Singleton(SpendReportsService, infra.uow_factory)
    alert_history = providers.Singleton(AlertHistory, infra.uow_factory)
    api_keys = providers.Singleton(
        ApiKeys,
        infra.uow_factory,
        infra.ids,
        infra.clock,
        settings.provided.api_key_cache_ttl,
        infra.key_revocations,
    )
    blocked_call_alerts = providers.Singleton(
        BlockedCallAlerts, infra.uow_factory, infra.blocked_calls, infra.ids, infra.clock
    )
    dispatch_alerts = providers.Singleton(
        DispatchAlerts,
        infra.uow_factory,
        infra.mailer,
        infra.renderer,
        infra.clock,
        settings.provided.dashboard_url,
        webhook=infra.webhook,
        blocked_counter=infra.blocked_calls,
        default_recipients=providers.Singleton(TenantAdmins, infra.accounts_uow_factory),
    )
    monitor_caps = providers.Singleton(MonitorCaps, infra.uow_factory, cap_alerts, infra.clock)
    forecast_caps = providers.Singleton(
        ForecastCaps, infra.uow_factory, cap_counters, infra.ids, infra.clock
    )
    reconcile_counters = providers.Singleton(
        ReconcileCounters, infra.uow_factory, cap_counters, infra.clock
    )
    sweep_reservations = providers.Singleton(SweepReservations, cap_counters, infra.clock)

    # Accounts, tenants and the ways in (docs/auth.md).
    password_hasher = providers.Singleton(accounts.password_hasher)
    local_accounts = providers.Singleton(
        LocalAccounts,
        infra.accounts_uow_factory,
        password_hasher,
        infra.ids,
        infra.clock,
        infra.mailer,
        api_keys,
        providers.Callable(accounts.account_links, settings),
        settings.provided.sign_up_open,
        settings.provided.first_user_claims_default,
    )
    tenant_access = providers.Singleton(TenantAccess, infra.accounts_uow_factory)
    manage_tenants = providers.Singleton(
        ManageTenants, infra.accounts_uow_factory, tenant_access, infra.ids, infra.clock
    )
    manage_members = providers.Singleton(
        ManageMembers,
        infra.accounts_uow_factory,
        infra.ids,
        infra.clock,
        infra.mailer,
        providers.Callable(accounts.invitation_url, settings),
    )
    report_on_behalf = providers.Singleton(ReportOnBehalf, infra.accounts_uow_factory)
    clerk_sync = providers.Singleton(ClerkSync, infra.accounts_uow_factory, infra.clock, api_keys)
    clerk_verifier = providers.Singleton(accounts.clerk_verifier, settings)
    webhook_verifier = providers.Singleton(accounts.webhook_verifier, settings)
    key_rate_limit = providers.Singleton(accounts.key_rate_limit, settings)
    cap_check_rate_limit = providers.Singleton(accounts.cap_check_rate_limit, settings)
    rate_limiter = infra.rate_limiter


def infrastructure_for(settings: Settings) -> containers.DeclarativeContainer:
    if settings.uses_memory_store:
        if settings.uses_redis:
            raise ValueError("memory:// keeps everything in process; unset LLMOBSERVE_REDIS_URL")
        return MemoryInfrastructure(settings=settings)
    if settings.uses_redis:
        return ProductionInfrastructure(settings=settings)
    # PostgreSQL without Redis runs on in-process counters: correct for one process.
    return EmbeddedInfrastructure(settings=settings)


def build_container(settings: Settings) -> Application:
    return Application(settings=settings, infra=infrastructure_for(settings))


async def open_infrastructure(container: Application) -> None:
    """Build the connection pools now, so a bad URL fails at start rather than on a request."""
    infra = container.infra
    if "engine" in infra.providers:
        engine = infra.providers["engine"]()
        if is_postgres(str(engine.url)) and not await row_level_security_enforced(engine):
            log.warning(
                "the database role bypasses row-level security (superuser or "
                "BYPASSRLS): tenant isolation rests on the queries alone"
            )
    if "redis" in infra.providers:
        infra.providers["redis"]()


def listen_for_key_revocations(container: Application) -> asyncio.Task[None] | None:
    """With Redis: a task dropping this process's copy of each key revoked elsewhere."""
    revocations = container.infra.key_revocations()
    if not isinstance(revocations, RedisKeyRevocations):
        return None
    return asyncio.create_task(revocations.listen(container.api_keys().forget))


async def close_infrastructure(container: Application) -> None:
    infra = container.infra
    if "redis" in infra.providers:
        await close_redis(infra.providers["redis"]())
    if "engine" in infra.providers:
        await infra.providers["engine"]().dispose()
