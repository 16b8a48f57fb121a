from __future__ import annotations

import asyncio
import decimal
import socket
import time

import anthropic
import llmobserve
import openai
import pytest
from llmobserve import CapCheckUnavailable, SpendingCapExceeded

from .conftest import Observe
from .fake_collector import REFUSAL, FakeCollector
from .fake_provider import FakeProvider

PROMPT = "x" * 400  # 100 tokens at four characters per token
MESSAGES = [{"role": "user", "content": PROMPT}]


def test_strict_reserves_before_the_call_and_the_event_settles_it(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict")
    with llmobserve.customer("cus_1"), llmobserve.agent("planner"):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=64)
    check = collector.checks[0].body
    assert check["provider"] == "openai"
    assert check["model"] == "gpt-4o"
    assert check["customer_id"] == "cus_1"
    assert check["agent"] == "planner"
    assert check["estimated_usage"] == {"input_tokens": 104, "output_tokens": 64}
    assert llmobserve.flush(5)
    assert collector.events[0]["reservation_id"] == "res_1"


def test_strict_uses_the_model_output_limit_when_no_max_tokens(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict")
    openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert collector.checks[0].body["estimated_usage"]["output_tokens"] == 16_384


def test_refusal_raises_without_calling_the_provider(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    collector.check_reply = REFUSAL
    observe(enforce="strict")
    with pytest.raises(SpendingCapExceeded) as caught:
        anthropic_client.messages.create(
            model="claude-sonnet-4-6", max_tokens=50, messages=MESSAGES
        )
    error = caught.value
    assert (error.cap_id, error.scope, error.scope_value) == ("cap_1", "customer", "cus_1")
    assert error.limit == decimal.Decimal("10.000000")
    assert error.spent == decimal.Decimal("9.990000")
    assert isinstance(error.limit, decimal.Decimal)
    assert provider.requests == []
    assert llmobserve.flush(5)
    assert collector.events == []


def test_refusal_also_applies_to_the_stream_helper(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    collector.check_reply = REFUSAL
    observe(enforce="strict")
    with (
        pytest.raises(SpendingCapExceeded),
        anthropic_client.messages.stream(
            model="claude-sonnet-4-6", max_tokens=50, messages=MESSAGES
        ),
    ):
        pass
    assert provider.requests == []


def test_a_failed_call_releases_its_reservation(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict")
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model="fail-400", messages=MESSAGES)
    assert llmobserve.flush(5)
    deadline = time.monotonic() + 5
    while not collector.releases and time.monotonic() < deadline:
        time.sleep(0.01)
    assert collector.releases == ["res_1"]
    assert collector.events[0]["reservation_id"] is None
    assert collector.events[0]["status"] == "error"


def test_async_strict_check(
    observe: Observe, collector: FakeCollector, async_openai_client: openai.AsyncOpenAI
) -> None:
    collector.check_reply = REFUSAL
    observe(enforce="strict")

    async def main() -> None:
        await async_openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    with pytest.raises(SpendingCapExceeded):
        asyncio.run(main())


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_unreachable_collector_fails_open_by_default(
    observe: Observe, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict", collector_url=closed_port_url())
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.choices


def test_unreachable_collector_fails_closed_when_asked(
    observe: Observe, provider: FakeProvider, openai_client: openai.OpenAI
) -> None:
    observe(enforce="strict", fail_open=False, collector_url=closed_port_url())
    with pytest.raises(CapCheckUnavailable):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert provider.requests == []


def test_cached_mode_refuses_blocked_scopes_locally(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    collector.blocked = [
        {
            "cap_id": "cap_9",
            "scope": "customer",
            "scope_value": "cus_1",
            "period": "daily",
            "limit": "5.000000",
            "spent": "5.010000",
            "window_end": "2099-01-01T00:00:00Z",
        }
    ]
    observe(enforce="cached")
    deadline = time.monotonic() + 5
    while collector.blocked_fetches == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    with llmobserve.customer("cus_1"), pytest.raises(SpendingCapExceeded) as caught:
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.cap_id == "cap_9"
    assert caught.value.spent == decimal.Decimal("5.010000")
    with llmobserve.customer("cus_2"):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(provider.requests) == 1
    assert collector.checks == []  # cached mode never asks per call


def test_cached_mode_picks_up_a_newly_blocked_scope_after_a_refresh(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    collector.refresh_after_seconds = 1.0
    observe(enforce="cached")
    with llmobserve.agent("planner"):
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        collector.blocked = [
            {
                "cap_id": "cap_a",
                "scope": "agent",
                "scope_value": "planner",
                "period": "daily",
                "limit": "1.000000",
                "spent": "1.000000",
            }
        ]
        fetches = collector.blocked_fetches
        deadline = time.monotonic() + 3
        while collector.blocked_fetches <= fetches and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        with llmobserve.agent("sub"), pytest.raises(SpendingCapExceeded):
            openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def test_invalid_enforce_mode_is_a_setup_error() -> None:
    with pytest.raises(ValueError, match="enforce"):
        llmobserve.observe(collector_url="http://127.0.0.1:1", api_key="llmo_sk_x", enforce="hard")


def test_cached_mode_keeps_refreshing_under_a_caller_that_never_waits(
    observe: Observe, collector: FakeCollector, in_memory_openai_client: openai.OpenAI
) -> None:
    """A calling thread busy every moment (answers served from memory) must not keep the
    refresh thread from running: its view would go stale and, with fail_open=False,
    every call would be refused after a minute."""
    collector.refresh_after_seconds = 1.0
    observe(enforce="cached", fail_open=False)
    client = in_memory_openai_client
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert collector.blocked_fetches >= 3
