from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import llmobserve
import openai
import pytest

from .fake_collector import FakeCollector
from .fake_provider import FakeProvider

API_KEY = "llmo_sk_test"


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    fake = FakeCollector()
    yield fake
    fake.close()


Observe = Callable[..., None]


def only_event(collector: FakeCollector) -> dict[str, Any]:
    """Flush the SDK and return the one event the collector received."""
    assert llmobserve.flush(5)
    events = collector.events
    assert len(events) == 1, events
    return events[0]


@pytest.fixture
def observe(collector: FakeCollector) -> Iterator[Observe]:
    """Start the SDK against the fake collector; options override the test defaults."""

    def start(**options: Any) -> None:
        settings: dict[str, Any] = {
            "collector_url": collector.url,
            "api_key": API_KEY,
            "flush_interval": 0.05,
        }
        settings.update(options)
        llmobserve.observe(**settings)

    yield start
    llmobserve.shutdown(timeout=0.5)


@pytest.fixture
def openai_client(provider: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)


@pytest.fixture
def in_memory_openai_client(provider: FakeProvider) -> openai.OpenAI:
    """The real client answered from memory, the fake provider's chat reply, with no
    socket: its calling thread never waits on I/O (a CPU-bound caller)."""
    answer = provider.chat({"model": "gpt-4o"}).body
    return openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.openai.com/v1",
        max_retries=0,
        http_client=httpx2.Client(
            transport=httpx2.MockTransport(lambda request: httpx2.Response(200, json=answer))
        ),
    )


@pytest.fixture
def async_openai_client(provider: FakeProvider) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)


@pytest.fixture
def anthropic_client(provider: FakeProvider) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=provider.url, max_retries=0)


@pytest.fixture
def async_anthropic_client(provider: FakeProvider) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=provider.url, max_retries=0)
