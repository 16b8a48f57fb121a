"""`llmobserve-server`: serve, migrate, create-api-key, demo, worker."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from domain.access import Principal, Role
from domain.tenants import DEFAULT_TENANT_ID, KeyKind
from entrypoints.container import Application, build_container, close_infrastructure
from entrypoints.settings import Settings, SettingsError

T = TypeVar("T")
log = logging.getLogger("llmobserve")


def migrate_database(settings: Settings) -> None:
    """Apply migrations (sync). The memory store has none; SQLite and PostgreSQL share them."""
    if settings.uses_memory_store:
        return
    from adapters.sql.database import migrate

    migrate(settings.migration_database_url or settings.database_url)


def with_container(settings: Settings, work: Callable[[Application], Awaitable[T]]) -> T:
    """Run `work` on a container whose connections are closed before the loop ends."""

    async def run() -> T:
        container = build_container(settings)
        try:
            return await work(container)
        finally:
            await close_infrastructure(container)

    return asyncio.run(run())


async def _first_key(container: Application) -> str | None:
    """On a fresh embedded install, make a management key so the user can start at once."""
    owner = Principal.for_member(DEFAULT_TENANT_ID, "cli", Role.OWNER)
    api_keys = container.api_keys()
    if await api_keys.list(owner):
        return None
    return (await api_keys.issue(DEFAULT_TENANT_ID, "first key", KeyKind.MANAGEMENT)).secret


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.http.app import create_app

    container = build_container(settings)
    secret = None
    if settings.uses_sqlite:
        migrate_database(settings)
        # The engine's pool belongs to the loop that made it: the key gets its own container.
        secret = with_container(settings, _first_key)
    elif settings.uses_memory_store:
        secret = asyncio.run(_first_key(container))
    if args.workers > 1 and not settings.uses_redis:
        # In-process counters are per process: two workers would each let a cap's full
        # limit through. Shared counters need Redis.
        print("--workers above 1 needs LLMOBSERVE_REDIS_URL (shared cap counters)", file=sys.stderr)
        return 2
    base = f"http://{args.host}:{args.port}"
    print(f"LLMObserve collector on {base}  (database: {settings.database_url})", flush=True)
    if secret:
        print(
            "\n  Your API key (shown once, store it now):\n\n"
            f"      {secret}\n\n"
            f'  curl -H "Authorization: Bearer {secret}" {base}/v1/spend/summary\n'
            "  A month of sample data: llmobserve-server demo (best before serve: a running\n"
            "  server counts it toward caps at its next counter reconcile)\n",
            flush=True,
        )
    if args.workers > 1:
        # Each worker builds its own container from the environment: stateless API
        # processes sharing PostgreSQL and Redis, as in production.
        uvicorn.run(
            "entrypoints.http.app:create_app_from_env",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level=settings.log_level,
            access_log=not args.no_access_log,
        )
        return 0
    uvicorn.run(
        create_app(container, freeze_heap=True),
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        access_log=not args.no_access_log,
    )
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    if settings.uses_memory_store:
        print("memory:// has no schema to migrate")
        return 0
    migrate_database(settings)
    print(f"migrated {settings.database_url}")
    return 0


def cmd_create_api_key(settings: Settings, args: argparse.Namespace) -> int:
    if settings.uses_sqlite:
        migrate_database(settings)

    async def create(container: Application) -> str:
        created = await container.api_keys().issue(args.tenant, args.name, KeyKind(args.kind))
        print(
            f"created {created.key.kind.value} key {created.key.id!r} "
            f"({created.key.display_prefix}...) for tenant {args.tenant!r}"
        )
        print("the key is shown once; store it now:")
        return created.secret

    secret = with_container(settings, create)
    print(secret)  # alone on the last line, so scripts can take it with `tail -n 1`
    return 0


def cmd_platform_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Grant (or withdraw) platform admin to the user with this email (docs/auth.md)."""
    from application.errors import ApplicationError

    if settings.uses_sqlite:
        migrate_database(settings)

    async def grant(container: Application) -> int:
        try:
            user = await container.local_accounts().set_platform_admin(
                args.email, granted=not args.revoke
            )
        except ApplicationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        state = "is now" if user.platform_admin else "is no longer"
        print(f"{user.email} ({user.id}) {state} a platform admin")
        return 0

    return with_container(settings, grant)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.demo import load_demo

    if settings.uses_sqlite:
        migrate_database(settings)

    async def load(container: Application) -> int:
        report = await load_demo(
            container.record_spend(),
            container.manage_caps(),
            container.catalog(),
            container.clock().now(),
            args.seed,
            args.tenant,
            args.days,
            args.per_day,
        )
        print(
            f"demo data for tenant {args.tenant!r}: {report.events} events generated, "
            f"{report.stored} stored, {report.duplicates} already there, "
            f"${report.cost.format(2)} priced, {report.unpriced} unpriced"
        )
        if report.caps:
            print(f"caps created: {', '.join(report.caps)}")
        return 0

    return with_container(settings, load)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints import worker

    return worker.main()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="llmobserve-server", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the collector (HTTP API)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes (above 1 needs Redis for shared counters)",
    )
    serve.set_defaults(run=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)

    key = commands.add_parser(
        "create-api-key", help="create an API key; prints it on the last line"
    )
    key.add_argument("--name", default="cli")
    key.add_argument("--kind", choices=[k.value for k in KeyKind], default=KeyKind.MANAGEMENT.value)
    key.add_argument("--tenant", default=DEFAULT_TENANT_ID)
    key.set_defaults(run=cmd_create_api_key)

    admin = commands.add_parser(
        "platform-admin", help="grant platform admin (sees and manages every tenant) by email"
    )
    admin.add_argument("email")
    admin.add_argument("--revoke", action="store_true", help="withdraw it instead")
    admin.set_defaults(run=cmd_platform_admin)

    demo = commands.add_parser("demo", help="load a month of synthetic spend")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--tenant", default=DEFAULT_TENANT_ID)
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--per-day", type=int, default=700, help="calls on an average weekday")
    demo.set_defaults(run=cmd_demo)

    commands.add_parser("worker", help="run the background worker").set_defaults(run=cmd_worker)
    return root


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    code: int = args.run(settings, args)
    return code


def main() -> None:
    sys.exit(run())
