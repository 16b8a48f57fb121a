"""Added wall time of the llmobserve SDK per non-streaming chat call (enforcement off).

Two fake providers:
  * ``inproc``: the real openai client with an in-process transport (no socket), so
    the SDK's cost is not lost in network jitter;
  * ``loopback``: a real HTTP server on 127.0.0.1, the realistic case.
Events go to a fake collector on loopback, so the exporter thread's work (JSON, gzip,
HTTP) competes with the measured calls, as it would in production. Both fakes run
in a child process, so their own Python work does not compete with the measurement.

Instrumented and uninstrumented calls are interleaved in random order, on the same
client, so drift (CPU frequency, caches, GC) hits both alike. The baseline calls the
original method that the SDK wrapped (``create.__wrapped__``).

    .venv/bin/python benchmarks/sdk_overhead.py [--iterations 20000] [--mode inproc|loopback|both]

Target: median <= 50 us, p99 <= 500 us added per call.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import llmobserve
import openai

MESSAGES = [{"role": "user", "content": "Say hello to the world, please."}]
CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 200},
            "completion_tokens_details": {"reasoning_tokens": 50},
        },
    }
).encode()


def inproc_client() -> openai.OpenAI:
    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=CHAT_BODY, headers={"content-type": "application/json"})

    return openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )


FAKES = """
import sys
from tests.sdk.fake_collector import FakeCollector
from tests.sdk.fake_provider import FakeProvider
provider, collector = FakeProvider(), FakeCollector()
print(provider.url, collector.url, flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def fakes_in_child() -> Iterator[tuple[str, str]]:
    """Start the fake provider and collector in a child process: (provider, collector) URLs."""
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-c", FAKES],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        provider_url, collector_url = child.stdout.readline().split()
        yield provider_url, collector_url
    finally:
        child.kill()
        child.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Samples = dict[str, list[float]]


def measure(client: openai.OpenAI, iterations: int) -> tuple[Samples, Samples]:
    """Interleave original and instrumented calls; wall and calling-thread CPU times in us."""
    instrumented: Callable[..., Any] = client.chat.completions.create
    original: Callable[..., Any] = instrumented.__wrapped__  # type: ignore[attr-defined]
    for _ in range(200):  # warm both paths: imports, connection pools, caches
        original(model="gpt-4o", messages=MESSAGES)
        instrumented(model="gpt-4o", messages=MESSAGES)
    base: Samples = {"wall": [], "cpu": []}
    inst: Samples = {"wall": [], "cpu": []}
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    for _ in range(iterations):
        pair = [(original, base), (instrumented, inst)]
        random.shuffle(pair)
        for call, sink in pair:
            started_cpu, started = cpu(), wall()
            call(model="gpt-4o", messages=MESSAGES)
            sink["wall"].append((wall() - started) / 1000)
            sink["cpu"].append((cpu() - started_cpu) / 1000)
    return base, inst


def report(name: str, base: Samples, inst: Samples) -> None:
    print(f"[{name}] {len(base['wall'])} interleaved pairs")
    for kind, label in (("wall", "wall time"), ("cpu", "CPU time of the calling thread")):
        b, i = base[kind], inst[kind]
        print(f"  {label}:")
        print(
            f"    uninstrumented: median {statistics.median(b):8.1f} us   p99 {percentile(b, 0.99):8.1f} us"
        )
        print(
            f"    instrumented:   median {statistics.median(i):8.1f} us   p99 {percentile(i, 0.99):8.1f} us"
        )
        print(
            f"    added:          median {statistics.median(i) - statistics.median(b):8.1f} us"
            f"   p99 {percentile(i, 0.99) - percentile(b, 0.99):8.1f} us   (targets: 50 / 500)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--mode", choices=["inproc", "loopback", "both"], default="both")
    args = parser.parse_args()

    with fakes_in_child() as (provider_url, collector_url):
        llmobserve.observe(collector_url=collector_url, api_key="llmo_sk_bench")
        gc.collect()
        try:
            if args.mode in ("inproc", "both"):
                report("in-process transport", *measure(inproc_client(), args.iterations))
            if args.mode in ("loopback", "both"):
                client = openai.OpenAI(
                    api_key="sk-bench", base_url=f"{provider_url}/v1", max_retries=0
                )
                report("loopback HTTP provider", *measure(client, max(1000, args.iterations // 5)))
            llmobserve.flush(10)
            stats = llmobserve.stats()
            print(
                f"  exporter: sent {stats['sent']}, dropped {stats['dropped']},"
                f" failed {stats['failed']}"
            )
        finally:
            llmobserve.shutdown(5)


if __name__ == "__main__":
    main()
