"""The exporter's queue bound holds while the collector is down.

Makes ``--calls`` instrumented chat calls (real openai client, in-process fake
provider) with the collector unreachable, and prints RSS, queue length and the
dropped count as it goes. The queue must never exceed ``--max-queue`` and memory
must level off instead of growing with the number of calls.

    .venv/bin/python benchmarks/sdk_queue_memory.py [--calls 100000] [--max-queue 10000]
"""

from __future__ import annotations

import argparse
import gc
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import llmobserve
from sdk_overhead import MESSAGES, inproc_client


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--max-queue", type=int, default=10_000)
    args = parser.parse_args()

    with socket.socket() as s:  # a port nobody listens on: the collector is down
        s.bind(("127.0.0.1", 0))
        down_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    llmobserve.observe(
        collector_url=down_url, api_key="llmo_sk_bench", max_queue_size=args.max_queue
    )
    client = inproc_client()
    for _ in range(200):
        client.chat.completions.create.__wrapped__(model="gpt-4o", messages=MESSAGES)
    gc.collect()
    start_rss = rss_mib()
    print(f"collector {down_url} (down), max_queue_size {args.max_queue}")
    print(f"{'calls':>8} {'rss MiB':>9} {'queue':>7} {'dropped':>8} {'peak queue':>11}")
    peak_queue = 0
    started = time.perf_counter()
    step = max(1, args.calls // 10)
    for i in range(1, args.calls + 1):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        if i % 1000 == 0:
            peak_queue = max(peak_queue, llmobserve.stats()["queued"])
        if i % step == 0:
            stats = llmobserve.stats()
            print(
                f"{i:>8} {rss_mib():>9.1f} {stats['queued']:>7} {stats['dropped']:>8}"
                f" {peak_queue:>11}"
            )
    elapsed = time.perf_counter() - started
    stats = llmobserve.stats()
    print(
        f"RSS {start_rss:.1f} -> {rss_mib():.1f} MiB; queue {stats['queued']} <= {args.max_queue}:"
        f" {'OK' if peak_queue <= args.max_queue else 'EXCEEDED'}; dropped {stats['dropped']};"
        f" {elapsed:.1f} s"
    )
    llmobserve.shutdown(0.1)


if __name__ == "__main__":
    main()
