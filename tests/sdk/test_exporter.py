from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator

import llmobserve
import openai
import pytest
from llmobserve._context import Attribution
from llmobserve._delivery import ExporterSettings
from llmobserve._events import PendingEvent
from llmobserve._exporter import Exporter
from llmobserve._http import CollectorEndpoint, HttpClient
from llmobserve._usage import Usage

from ._server import Reply
from .conftest import API_KEY, Observe
from .fake_collector import FakeCollector

MESSAGES = [{"role": "user", "content": "hi"}]


def event(i: int = 0) -> PendingEvent:
    return PendingEvent(
        occurred_ns=time.time_ns(),
        provider="openai",
        model="gpt-4o",
        operation="chat",
        usage=Usage(input_tokens=10 + i, output_tokens=5),
        latency_ms=12,
        status="ok",
        attribution=Attribution(customer_id=f"cus_{i}"),
    )


@pytest.fixture
def make_exporter(collector: FakeCollector) -> Iterator[object]:
    made: list[Exporter] = []

    def make(url: str | None = None, **settings: float) -> Exporter:
        endpoint = CollectorEndpoint(url or collector.url, API_KEY)
        exporter = Exporter(
            lambda: HttpClient(endpoint, 2.0),
            ExporterSettings(**{"interval": 0.05, "backoff_base": 0.01, **settings}),
            tenant_id=None,
            default_tags={},
        )
        made.append(exporter)
        return exporter

    yield make
    for exporter in made:
        exporter.shutdown(0.5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_batches_are_gzipped_and_carry_unique_uuid7_ids(
    make_exporter: object, collector: FakeCollector
) -> None:
    exporter = make_exporter(batch_size=50, interval=10)  # type: ignore[operator]
    for i in range(120):
        exporter.put(event(i))
    assert exporter.flush(5)
    assert [len(r.body["events"]) for r in collector.batches] == [50, 50, 20]
    assert all(r.headers["content-encoding"] == "gzip" for r in collector.batches)
    first = collector.batches[0]
    assert json.loads(gzip.decompress(first.raw_body))["events"][0]["customer_id"] == "cus_0"
    ids = [uuid.UUID(e["event_id"]) for e in collector.events]
    assert len(set(ids)) == 120
    assert {i.version for i in ids} == {7}
    assert exporter.sent == 120


def test_a_retried_batch_keeps_its_event_ids(
    make_exporter: object, collector: FakeCollector
) -> None:
    collector.event_replies.extend([Reply(503, {"detail": "down"}), Reply(500, {"detail": "x"})])
    exporter = make_exporter()  # type: ignore[operator]
    exporter.put(event())
    exporter.put(event(1))
    assert exporter.flush(5)
    attempts = [[e["event_id"] for e in r.body["events"]] for _, r in collector.attempts]
    assert len(attempts) == 3
    assert attempts[0] == attempts[1] == attempts[2]
    assert len(collector.events) == 2


def test_429_retry_after_is_honoured(make_exporter: object, collector: FakeCollector) -> None:
    collector.event_replies.append(Reply(429, {"detail": "slow down"}, {"Retry-After": "0.4"}))
    exporter = make_exporter()  # type: ignore[operator]
    exporter.put(event())
    assert exporter.flush(5)
    (first, _), (second, _) = collector.attempts
    assert second - first >= 0.35
    assert len(collector.events) == 1


def test_queue_drops_oldest_when_the_collector_is_down(
    make_exporter: object, collector: FakeCollector
) -> None:
    collector.status_for_all = 503
    exporter = make_exporter(max_queue_size=10, batch_size=5, interval=0.01)  # type: ignore[operator]
    started = time.perf_counter()
    for i in range(1000):
        exporter.put(event(i))
    elapsed = time.perf_counter() - started
    assert exporter.queue_length() <= 10
    # Every event is queued, dropped, failed after its retries, or in the one batch in
    # flight: none is lost uncounted. (How many the worker got to try, and so failed
    # rather than dropped, depends on how often it ran.)
    queued = exporter.queue_length()
    failed = exporter.failed
    assert exporter.dropped + failed + queued >= 1000 - 5
    assert elapsed < 1.0  # putting never waits on the network
    # The newest events survived.
    assert max(e.usage.input_tokens for e in list(exporter._queue)) == 10 + 999


def test_a_refused_key_is_one_warning(
    make_exporter: object, collector: FakeCollector, caplog: pytest.LogCaptureFixture
) -> None:
    collector.status_for_all = 401
    exporter = make_exporter()  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="llmobserve"):
        for _ in range(3):
            exporter.put(event())
            exporter.flush(2)
    warnings = [r for r in caplog.records if "refused the API key" in r.getMessage()]
    assert len(warnings) == 1
    assert len(collector.attempts) == 3  # a 401 is not retried
    assert exporter.failed == 3


def test_bad_collector_url_warns_once_and_calls_still_work(
    provider: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = openai.OpenAI(api_key="k", base_url=f"{provider.url}/v1", max_retries=0)  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="llmobserve"):
        llmobserve.observe(collector_url="collector.internal:8000", api_key=API_KEY)
        try:
            for _ in range(3):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        finally:
            llmobserve.shutdown(1)
    assert len([r for r in caplog.records if "collector_url" in r.getMessage()]) == 1


def test_unreachable_collector_never_slows_calls(
    observe: Observe, openai_client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="llmobserve"):
        observe(collector_url=f"http://127.0.0.1:{free_port()}")
        started = time.perf_counter()
        for _ in range(20):
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        elapsed = time.perf_counter() - started
        assert llmobserve.flush(0.3) is False
    assert elapsed < 2.0
    assert len([r for r in caplog.records if "cannot reach" in r.getMessage()]) == 1


def test_slow_collector_never_slows_calls(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    collector.delay_seconds = 1.5
    observe(batch_size=1)
    started = time.perf_counter()
    for _ in range(5):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert time.perf_counter() - started < 1.0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_worker_is_recreated_in_a_forked_child(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict")  # the cap check's kept-alive socket must not be shared
    with llmobserve.customer("parent"):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert llmobserve.flush(5)
    pid = os.fork()
    if pid == 0:  # child: record one call, flush it, leave without running pytest's exit
        code = 1
        try:
            with llmobserve.customer("child"):
                openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            code = 0 if llmobserve.flush(5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(e["customer_id"] for e in collector.events) == ["child", "parent"]
    assert sorted(e["reservation_id"] for e in collector.events) == ["res_1", "res_2"]


def test_events_are_flushed_at_interpreter_exit(collector: FakeCollector) -> None:
    script = textwrap.dedent(f"""
        import llmobserve
        from llmobserve._context import Attribution
        from llmobserve._events import PendingEvent
        from llmobserve._runtime import active
        from llmobserve._usage import Usage
        import time
        llmobserve.observe(collector_url={collector.url!r}, api_key="llmo_sk_x", flush_interval=60)
        active().record(PendingEvent(occurred_ns=time.time_ns(), provider="openai",
            model="gpt-4o", operation="chat", usage=Usage(input_tokens=3), latency_ms=1,
            status="ok", attribution=Attribution(customer_id="at_exit")))
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert [e["customer_id"] for e in collector.events] == ["at_exit"]


def test_partially_rejected_batch_is_counted_and_warned_once(
    make_exporter: object, collector: FakeCollector, caplog: pytest.LogCaptureFixture
) -> None:
    rejection = {"index": 1, "event_id": "x", "field": "usage.input_tokens", "error": "too big"}
    collector.event_replies.append(
        Reply(207, {"accepted": 1, "duplicates": 0, "rejected": [rejection]})
    )
    exporter = make_exporter()  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="llmobserve"):
        exporter.put(event())
        exporter.put(event(1))
        assert exporter.flush(5)
    assert (exporter.sent, exporter.rejected) == (1, 1)
    assert len(collector.attempts) == 1  # a 207 is an answer, not a failure to retry
    assert len([r for r in caplog.records if "rejected 1 event" in r.getMessage()]) == 1


def test_a_caller_that_never_waits_does_not_starve_the_worker(
    observe: Observe, collector: FakeCollector, in_memory_openai_client: openai.OpenAI
) -> None:
    """Answers served from memory leave the calling thread busy every moment, and a
    worker waiting to take the GIL back after each socket call could lose every race to
    it: the queue filled and dropped while the collector was up."""
    observe(max_queue_size=1_000)
    client = in_memory_openai_client
    calls = 3_000
    for _ in range(calls):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert llmobserve.stats()["dropped"] == 0
    assert llmobserve.flush(10)
    assert len(collector.events) == calls
