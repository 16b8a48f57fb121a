"""Added wall time per call with ``enforce="strict"``: one cap check round trip on loopback.

By default it starts the real embedded collector (``llmobserve-server serve`` in a
temporary directory, SQLite) and creates an API key with its CLI. ``--collector-url``
and ``--api-key`` point it at a running collector instead; ``--fake-collector`` uses
the test suite's fake collector (measures the SDK side of the round trip only).

    .venv/bin/python benchmarks/sdk_strict.py [--iterations 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import llmobserve
from llmobserve._http import CollectorEndpoint, HttpClient
from sdk_overhead import inproc_client, measure, percentile

from tests.sdk.fake_collector import FakeCollector

CLI = Path(sys.executable).with_name("llmobserve-server")


@contextlib.contextmanager
def embedded_collector() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as workdir:
        created = subprocess.run(
            [str(CLI), "create-api-key"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        api_key = created.stdout.strip().splitlines()[-1].strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                        break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the embedded collector did not start") from None
                    time.sleep(0.1)
            yield url, api_key
        finally:
            process.terminate()
            process.wait(10)


@contextlib.contextmanager
def fake_collector() -> Iterator[tuple[str, str]]:
    fake = FakeCollector()
    try:
        yield fake.url, "llmo_sk_bench"
    finally:
        fake.close()


def check_round_trip(url: str, api_key: str, count: int) -> float:
    """Median time of the cap check request alone, to tell the SDK's share from the server's."""
    endpoint = CollectorEndpoint(url, api_key)
    client = HttpClient(endpoint, 10.0)
    payload = {
        "provider": "openai",
        "model": "gpt-4o",
        "agent": None,
        "customer_id": None,
        "estimated_usage": {"input_tokens": 12, "output_tokens": 16},
        "ttl_seconds": 5,
    }
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        client.request("POST", "/v1/caps/check", payload)
        samples.append((time.perf_counter_ns() - started) / 1000)
    client.close()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--collector-url")
    parser.add_argument("--api-key")
    parser.add_argument("--fake-collector", action="store_true")
    args = parser.parse_args()

    if args.collector_url:
        source = contextlib.nullcontext((args.collector_url, args.api_key or ""))
        label = f"collector at {args.collector_url}"
    elif args.fake_collector or not CLI.exists():
        source = fake_collector()
        label = (
            "fake collector (llmobserve-server not installed)"
            if not args.fake_collector
            else "fake collector"
        )
    else:
        source = embedded_collector()
        label = "embedded collector (SQLite) on loopback"

    with source as (url, api_key):
        llmobserve.observe(collector_url=url, api_key=api_key, enforce="strict", fail_open=False)
        try:
            round_trip = check_round_trip(url, api_key, min(500, args.iterations))
            samples = measure(inproc_client(), args.iterations)
            base, inst = samples[0]["wall"], samples[1]["wall"]
            llmobserve.flush(10)
            stats = llmobserve.stats()
        finally:
            llmobserve.shutdown(5)
    added = statistics.median(inst) - statistics.median(base)
    print(f"[enforce=strict, {label}] {len(base)} interleaved pairs")
    print(
        f"  uninstrumented: median {statistics.median(base):8.1f} us   p99 {percentile(base, 0.99):8.1f} us"
    )
    print(
        f"  strict:         median {statistics.median(inst):8.1f} us   p99 {percentile(inst, 0.99):8.1f} us"
    )
    print(f"  added:          median {added:8.1f} us")
    print(f"  bare POST /v1/caps/check round trip (no SDK): median {round_trip:8.1f} us")
    print(
        f"  exporter: sent {stats['sent']}, rejected {stats['rejected']}, failed {stats['failed']}"
    )


if __name__ == "__main__":
    main()
