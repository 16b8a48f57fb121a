"""Ingest throughput through the HTTP API: events/s and request latency.

Starts the real collector (`llmobserve-server serve` on loopback, access log off)
on a scratch database, then posts batches from a few keep-alive connections for
a fixed time per batch size, gzip-compressed as the SDK sends them. Each event has
a fresh UUIDv7 made as the SDK makes it (time-ordered) and realistic attribution (several providers, models, agents and
customers), so rollups see real cardinality. The bodies are built and compressed
before the clock starts: the client shares the machine's CPU with the collector,
and an SDK's own encoding happens on the application's machines, not the
collector's. At the end the summary endpoint must count every event the collector
acknowledged.

On PostgreSQL the collector connects as the service role, under row-level security,
as in production; after the timed run the same rows (read back from spend_events)
are COPYed raw with asyncpg, one COPY per batch, under another tenant id, and the
script prints the ratio of the two rates.

    .venv/bin/python benchmarks/ingest_http.py                      # embedded SQLite
    .venv/bin/python benchmarks/ingest_http.py --database-url \\
        postgresql+asyncpg://postgres@127.0.0.1:5432/bench --duration 60 --batch-sizes 100

The database must be empty of other load; a PostgreSQL URL (its owner, who migrates
it) is migrated first. The client shares the machine with the server, so the figure
is a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmobserve._uuid7 import uuid7_str  # the SDK's own event ids: time-ordered UUIDv7

from adapters.sql.database import APP_ROLE
from adapters.sql.urls import with_user
from benchmarks.ingest_raw_copy import COPY_COLUMNS, copy_records_rate
from domain.tenants import DEFAULT_TENANT_ID

CLI = str(Path(sys.executable).with_name("llmobserve-server"))
MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o-2024-08-06"),
    ("anthropic", "claude-sonnet-4-20250514"),
    ("google", "gemini-2.5-flash"),
    ("groq", "llama-3.1-8b-instant"),
    ("selfhosted", "acme-llm"),
]
AGENTS = ["support/triage", "support/answer", "research/planner", "research/planner/search", None]
CUSTOMERS = [f"cus_{i:04d}" for i in range(200)]


@dataclass
class Run:
    batch_size: int
    requests: int
    events: int
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"batch {self.batch_size:>4}: {self.events / self.seconds:>9,.0f} events/s  "
            f"({self.events:,} events, {self.requests:,} requests in {self.seconds:.1f} s)  "
            f"latency p50 {p50:.1f} ms  p99 {p99:.1f} ms"
        )


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process on the machine, by pid, with its name."""
    seen: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seen[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return seen


def cpu_split(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], collector: set[int]
) -> dict[str, float]:
    """CPU seconds spent between two snapshots: the collector, PostgreSQL, Redis, this client."""
    spent = {"collector": 0.0, "postgres": 0.0, "redis": 0.0, "client": 0.0, "other": 0.0}
    for pid, (name, seconds) in after.items():
        used = seconds - before.get(pid, (name, 0.0))[1]
        if pid in collector:
            spent["collector"] += used
        elif pid == os.getpid():
            spent["client"] += used
        elif name == "postgres":
            spent["postgres"] += used
        elif name.startswith("redis-server"):
            spent["redis"] += used
        else:
            spent["other"] += used
    return spent


def process_tree(root: int) -> set[int]:
    """The pid and every descendant of `root` (uvicorn's workers when --workers > 1)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def batch_body(size: int, rng: random.Random, compress: bool) -> bytes:
    now = datetime.now(UTC).isoformat()
    events: list[dict[str, Any]] = []
    for _ in range(size):
        provider, model = rng.choice(MODELS)
        events.append(
            {
                "event_id": uuid7_str(time.time_ns()),
                "occurred_at": now,
                "provider": provider,
                "model": model,
                "operation": "chat",
                "usage": {
                    "input_tokens": rng.randint(100, 4000),
                    "output_tokens": rng.randint(10, 900),
                    "cache_read_tokens": 0,
                    "cache_write_tokens": 0,
                    "reasoning_tokens": 0,
                },
                "latency_ms": rng.randint(100, 3000),
                "status": "ok",
                "agent": rng.choice(AGENTS),
                "customer_id": rng.choice(CUSTOMERS),
                "tags": {"env": "bench"},
            }
        )
    body = msgspec.json.encode({"events": events})
    return gzip.compress(body, compresslevel=5) if compress else body


def bodies_for(size: int, events: int, compress: bool, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [batch_body(size, rng, compress) for _ in range(max(1, events // size))]


_accepted_decoder = msgspec.json.Decoder()


async def load(
    base: str, key: str, size: int, seconds: float, connections: int, bodies: list[bytes]
) -> Run:
    """Post `bodies` for `seconds` (or until they run out, which the figures then cover).

    A bare HTTP/1.1 keep-alive client on asyncio streams: it shares the machine's two cores
    with the collector and PostgreSQL, and an httpx client cost 2.2 ms of CPU a request
    here, about a tenth of the machine, which real clients spend on their own machines."""
    host, port = base.removeprefix("http://").split(":")
    encoding = "Content-Encoding: gzip\r\n" if bodies and bodies[0][:2] == b"\x1f\x8b" else ""
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n{encoding}"
    ).encode()
    latencies: list[float] = []
    accepted = requests = 0
    deadline = time.perf_counter() + seconds
    queue = iter(bodies)

    async def worker() -> None:
        nonlocal accepted, requests
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for body in queue:
                if time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
                headers = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(headers)
                payload = await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                if not headers.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{headers[:40]!r}: {payload[:300]!r}")
                accepted += _accepted_decoder.decode(payload)["accepted"]
                requests += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return Run(size, requests, accepted, elapsed, latencies)


def _content_length(headers: bytes) -> int:
    for line in headers.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"a response without Content-Length: {headers[:300]!r}")


async def raw_copy_rate(owner_url: str, count: int, batch_size: int) -> float:
    """COPY the last `count` rows the collector stored, raw, one COPY per batch."""
    dsn = owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            f"SELECT {', '.join(COPY_COLUMNS)} FROM spend_events"
            " WHERE tenant_id = $1 ORDER BY occurred_at DESC LIMIT $2",
            DEFAULT_TENANT_ID,
            count,
        )
    finally:
        await connection.close()
    tenant_at = COPY_COLUMNS.index("tenant_id")
    records = [(*row[:tenant_at], "raw-copy", *row[tenant_at + 1 :]) for row in rows]
    return await copy_records_rate(dsn, records, batch_size)


def wait_healthy(base: str, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the collector exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the collector did not become healthy in 60 s")


def serve_memory(port: int) -> None:
    """The collector on the in-memory store, in this process: the API layer's own ceiling."""
    import uvicorn

    from domain.tenants import DEFAULT_TENANT_ID, KeyKind
    from entrypoints.container import build_container
    from entrypoints.http.app import create_app
    from entrypoints.settings import MEMORY_DATABASE_URL, Settings

    container = build_container(Settings(database_url=MEMORY_DATABASE_URL))

    async def run() -> None:
        for kind in (KeyKind.INGEST, KeyKind.MANAGEMENT):
            issued = await container.api_keys().issue(DEFAULT_TENANT_ID, "bench", kind)
            print(issued.secret, flush=True)
        config = uvicorn.Config(
            create_app(container),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )
        await uvicorn.Server(config).serve()

    asyncio.run(run())


def start_memory_server(port: int) -> tuple[subprocess.Popen[str], str, str]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-memory", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip(), server.stdout.readline().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="default: a scratch SQLite file (embedded); memory:// measures the API layer alone",
    )
    parser.add_argument("--redis-url", help="LLMOBSERVE_REDIS_URL for the collector")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per batch size")
    parser.add_argument("--batch-sizes", default="100,500")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="collector API processes")
    parser.add_argument("--no-gzip", action="store_true")
    parser.add_argument(
        "--max-rate",
        type=int,
        default=40_000,
        help="events/s to prepare bodies for (a faster collector ends the run early)",
    )
    parser.add_argument("--serve-memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_memory:
        serve_memory(args.serve_memory)
        return

    workdir = Path(tempfile.mkdtemp(prefix="llmo-ingest-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOBSERVE_")}
    postgres = url.startswith("postgresql")
    env.update(
        # On PostgreSQL the service role, under row-level security, as in production.
        LLMOBSERVE_DATABASE_URL=with_user(url, APP_ROLE) if postgres else url,
        LLMOBSERVE_LOG_LEVEL="warning",
        LLMOBSERVE_MAIL_FILE=str(workdir / "mail.log"),
        # The per-key limit (200 requests/s by default) stays on, so its cost is measured,
        # but far above what this machine can send: the figure is the collector's own.
        LLMOBSERVE_API_KEY_RATE_PER_SECOND="1000000",
        LLMOBSERVE_API_KEY_RATE_BURST="1000000",
    )
    if postgres:
        env["LLMOBSERVE_MIGRATION_DATABASE_URL"] = url
    if args.redis_url:
        env["LLMOBSERVE_REDIS_URL"] = args.redis_url
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server: subprocess.Popen[Any]
    if url == "memory://":
        server, ingest_key, reader_key = start_memory_server(port)
    else:
        if not url.startswith("sqlite"):
            cli(env, "migrate")
        ingest_key = cli(env, "create-api-key", "--name", "bench", "--kind", "ingest")
        reader_key = cli(env, "create-api-key", "--name", "bench-reader", "--kind", "management")
        server = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--no-access-log", "--workers", str(args.workers)],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
    try:
        wait_healthy(base, server)
        print(
            f"collector: {url.split('@')[-1]}  ({args.connections} connections, "
            f"{'gzip' if not args.no_gzip else 'plain JSON'}, {args.duration:.0f} s per size)"
        )
        compress = not args.no_gzip
        for seed, size in enumerate(int(s) for s in args.batch_sizes.split(",")):
            warm_up = bodies_for(size, 2_000, compress, seed=-1 - seed)
            asyncio.run(load(base, ingest_key, size, 1.0, args.connections, warm_up))
            bodies = bodies_for(size, int(args.max_rate * args.duration), compress, seed)
            collector = process_tree(server.pid)
            before = _process_cpu()
            run = asyncio.run(load(base, ingest_key, size, args.duration, args.connections, bodies))
            spent = cpu_split(before, _process_cpu(), collector)
            print(run.line(), flush=True)
            per_request = {k: v * 1000 / max(1, run.requests) for k, v in spent.items()}
            print(
                "            CPU per request: "
                + ", ".join(f"{k} {v:.1f} ms" for k, v in per_request.items())
                + f"; machine busy {sum(spent.values()) / run.seconds / (os.cpu_count() or 1):.0%}",
                flush=True,
            )
            if postgres:
                raw = asyncio.run(raw_copy_rate(url, run.events, size))
                print(
                    f"            raw asyncpg COPY of the same {run.events:,} rows: "
                    f"{raw:,.0f} events/s; HTTP ingest / COPY = {run.events / run.seconds / raw:.0%}",
                    flush=True,
                )
        summary = httpx.get(
            f"{base}/v1/spend/summary",
            headers={"Authorization": f"Bearer {reader_key}"},
            timeout=60,
        ).json()
        total = summary["totals"]["calls"]
        print(
            f"check: the collector reports {total:,} calls this month "
            f"(warm-ups included), {summary['totals']['unpriced_calls']:,} unpriced"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
