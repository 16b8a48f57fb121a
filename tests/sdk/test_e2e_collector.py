"""SDK -> the real collector (embedded mode, launched with its CLI on loopback)."""

from __future__ import annotations

import decimal
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llmobserve
import openai
import pytest
from llmobserve import SpendingCapExceeded

from .fake_provider import FakeProvider

CLI = Path(sys.executable).with_name("llmobserve-server")


def _cli_missing() -> str | None:
    if not CLI.exists():
        return f"{CLI} is not installed"
    try:
        if importlib.util.find_spec("entrypoints.cli") is None:
            return "entrypoints.cli is not importable yet"
    except ImportError as exc:
        return f"entrypoints.cli is not importable yet ({exc})"
    return None


pytestmark = pytest.mark.skipif(
    _cli_missing() is not None, reason=f"llmobserve-server unavailable: {_cli_missing()}"
)

MESSAGES = [{"role": "user", "content": "What is the answer?"}]
# The fake provider reports 1,200 prompt tokens of which 200 cached, 300 output, for
# gpt-4o-2024-08-06 ($2.50 in, $1.25 cached, $10.00 out per million tokens).
COST_PER_CALL = decimal.Decimal("0.00575")


class Server:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.api_key = api_key

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One collector for the module (starting one takes seconds); tests use own customers."""
    tmp_path = tmp_path_factory.mktemp("collector")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    created = subprocess.run(
        [str(CLI), "create-api-key"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    api_key = created.stdout.strip().splitlines()[-1].strip()
    assert api_key.startswith("llmo_sk_"), created.stdout
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "collector did not start:\n" + (tmp_path / "server.log").read_text()
                    )
                time.sleep(0.1)
        yield Server(url, api_key)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def client(provider: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)


def _row(summary: dict[str, Any], dimension: str, key: str) -> dict[str, Any]:
    rows = {row["key"]: row for row in summary["breakdowns"][dimension]}
    assert key in rows, summary["breakdowns"]
    return rows[key]


def test_spend_reaches_the_collector_with_cost_customer_and_agent(
    server: Server, client: openai.OpenAI
) -> None:
    llmobserve.observe(collector_url=server.url, api_key=server.api_key)
    try:
        with llmobserve.customer("cus_e2e"), llmobserve.agent("planner"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            with llmobserve.agent("research_agent"):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert llmobserve.flush(10)
        assert llmobserve.stats()["sent"] == 2
    finally:
        llmobserve.shutdown(5)
    summary = server.request("GET", "/v1/spend/summary?customer_id=cus_e2e")
    totals = summary["totals"]
    assert decimal.Decimal(totals["cost"]) == 2 * COST_PER_CALL
    assert totals["calls"] == 2
    assert totals["input_tokens"] == 2000
    assert totals["cache_read_tokens"] == 400
    assert decimal.Decimal(_row(summary, "customer", "cus_e2e")["cost"]) == 2 * COST_PER_CALL
    assert _row(summary, "agent", "planner")["calls"] == 1
    assert _row(summary, "agent", "planner/research_agent")["calls"] == 1


def test_block_cap_stops_the_call_that_would_exceed_it(
    server: Server, client: openai.OpenAI, provider: FakeProvider
) -> None:
    server.request(
        "POST",
        "/v1/caps",
        {
            "name": "c",
            "scope": "customer",
            "scope_value": "cus_capped",
            "period": "monthly",
            "limit": "0.01",
            "enforcement": "block",
        },
    )
    llmobserve.observe(collector_url=server.url, api_key=server.api_key, enforce="strict")
    try:
        with llmobserve.customer("cus_capped"):
            # $0.00575 each: after two calls $0.0115 is spent, over the $0.01 limit.
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=100)
                assert llmobserve.flush(10)
            with pytest.raises(SpendingCapExceeded) as caught:
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=100)
        with llmobserve.customer("cus_free"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=100)
        assert llmobserve.flush(10)
    finally:
        llmobserve.shutdown(5)
    error = caught.value
    assert error.scope == "customer"
    assert error.scope_value == "cus_capped"
    assert error.limit == decimal.Decimal("0.01")
    assert error.spent == 2 * COST_PER_CALL
    assert len(provider.requests) == 3  # the refused call never reached the provider
    summary = server.request("GET", "/v1/spend/summary")
    assert decimal.Decimal(_row(summary, "customer", "cus_capped")["cost"]) == 2 * COST_PER_CALL


def test_cached_mode_refuses_a_customer_whose_cap_is_exhausted(
    server: Server, client: openai.OpenAI, provider: FakeProvider
) -> None:
    server.request(
        "POST",
        "/v1/caps",
        {
            "name": "tiny",
            "scope": "customer",
            "scope_value": "cus_cached",
            "period": "daily",
            "limit": "0.001",
            "enforcement": "block",
        },
    )
    llmobserve.observe(collector_url=server.url, api_key=server.api_key)
    try:
        with llmobserve.customer("cus_cached"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert llmobserve.flush(10)
        # A fresh cached-mode configuration fetches the blocked list at once.
        llmobserve.observe(
            collector_url=server.url, api_key=server.api_key, enforce="cached", fail_open=False
        )
        calls_before = len(provider.requests)
        with llmobserve.customer("cus_cached"), pytest.raises(SpendingCapExceeded) as caught:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert len(provider.requests) == calls_before
        with llmobserve.customer("cus_other"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    finally:
        llmobserve.shutdown(5)
    assert caught.value.scope_value == "cus_cached"
    assert caught.value.spent == COST_PER_CALL
