from __future__ import annotations

import inspect

import anthropic
import llmobserve
import pytest
from anthropic.types.beta import BetaMessage
from llmobserve import SpendingCapExceeded

from .conftest import Observe, only_event
from .fake_collector import REFUSAL, FakeCollector
from .fake_provider import FakeProvider
from .test_anthropic import MESSAGES, MODEL, USAGE

BETAS = ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]


def test_beta_create_is_recorded_and_betas_reach_the_provider(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    observe()
    with llmobserve.customer("cus_7"):
        message = anthropic_client.beta.messages.create(
            model=MODEL, max_tokens=256, messages=MESSAGES, betas=BETAS
        )
    assert isinstance(message, BetaMessage)
    assert message.content[0].text == "Hello world"
    assert provider.requests[0].headers["anthropic-beta"] == ",".join(BETAS)
    event = only_event(collector)
    assert event["provider"] == "anthropic"
    assert event["model"] == MODEL
    assert event["usage"] == USAGE
    assert event["customer_id"] == "cus_7"
    assert event["estimated"] is False


async def test_beta_async_create_is_recorded(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    async_anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    observe()
    message = await async_anthropic_client.beta.messages.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, betas=BETAS
    )
    assert message.usage.output_tokens == 80
    assert provider.requests[0].headers["anthropic-beta"] == ",".join(BETAS)
    assert only_event(collector)["usage"] == USAGE


def test_beta_parse_is_recorded(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    parsed = anthropic_client.beta.messages.parse(model=MODEL, max_tokens=256, messages=MESSAGES)
    assert parsed.content[0].text == "Hello world"
    assert only_event(collector)["usage"] == USAGE


def test_beta_raw_stream_reads_message_start_and_message_delta(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    observe()
    stream = anthropic_client.beta.messages.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, stream=True, betas=BETAS
    )
    assert isinstance(stream, anthropic.Stream)
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert provider.requests[0].headers["anthropic-beta"] == ",".join(BETAS)
    event = only_event(collector)
    assert event["usage"] == USAGE
    assert event["estimated"] is False


def test_beta_stream_helper_is_recorded_with_final_usage(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    observe()
    with (
        llmobserve.agent("writer"),
        anthropic_client.beta.messages.stream(
            model=MODEL, max_tokens=256, messages=MESSAGES, betas=BETAS
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello world"
    assert final.usage.output_tokens == 80
    assert provider.requests[0].headers["anthropic-beta"] == ",".join(BETAS)
    event = only_event(collector)
    assert event["usage"] == USAGE
    assert event["agent"] == "writer"


async def test_beta_async_stream_helper_is_recorded(
    observe: Observe,
    collector: FakeCollector,
    async_anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    observe()
    async with async_anthropic_client.beta.messages.stream(
        model=MODEL, max_tokens=256, messages=MESSAGES, betas=BETAS
    ) as stream:
        assert await stream.get_final_text() == "Hello world"
    assert only_event(collector)["usage"] == USAGE


def test_beta_thread_turns_are_recorded_through_create(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    thread = anthropic_client.beta.messages.thread(model=MODEL, max_tokens=256)
    assert thread.send("Say hello").content[0].text == "Hello world"
    assert only_event(collector)["usage"] == USAGE


def test_beta_streaming_response_is_recorded_when_parsed(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    with anthropic_client.beta.messages.with_streaming_response.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, betas=BETAS
    ) as response:
        message = response.parse()
    assert message.content[0].text == "Hello world"
    assert only_event(collector)["usage"] == USAGE


def test_beta_streaming_response_stream_is_tracked_when_parsed(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    with anthropic_client.beta.messages.with_streaming_response.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, stream=True
    ) as response:
        kinds = [event.type for event in response.parse()]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    event = only_event(collector)
    assert event["usage"] == USAGE
    assert event["estimated"] is False


async def test_async_raw_response_is_recorded_when_parsed(
    observe: Observe,
    collector: FakeCollector,
    async_anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    observe()
    raw = await async_anthropic_client.beta.messages.with_raw_response.create(
        model=MODEL, max_tokens=256, messages=MESSAGES
    )
    assert (await raw.parse()).usage.output_tokens == 80
    assert only_event(collector)["usage"] == USAGE


def test_refusal_stops_sync_beta_calls_before_the_provider(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    anthropic_client: anthropic.Anthropic,
) -> None:
    collector.check_reply = REFUSAL
    observe(enforce="strict")
    beta = anthropic_client.beta.messages
    with pytest.raises(SpendingCapExceeded):
        beta.create(model=MODEL, max_tokens=50, messages=MESSAGES, betas=BETAS)
    with pytest.raises(SpendingCapExceeded):
        beta.create(model=MODEL, max_tokens=50, messages=MESSAGES, stream=True)
    with pytest.raises(SpendingCapExceeded):
        beta.parse(model=MODEL, max_tokens=50, messages=MESSAGES)
    with (
        pytest.raises(SpendingCapExceeded),
        beta.stream(model=MODEL, max_tokens=50, messages=MESSAGES),
    ):
        pass
    assert len(collector.checks) == 4
    assert provider.requests == []
    assert llmobserve.flush(5)
    assert collector.events == []


async def test_refusal_stops_async_beta_calls_before_the_provider(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    async_anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    collector.check_reply = REFUSAL
    observe(enforce="strict")
    beta = async_anthropic_client.beta.messages
    with pytest.raises(SpendingCapExceeded):
        await beta.create(model=MODEL, max_tokens=50, messages=MESSAGES, betas=BETAS)
    manager = beta.stream(model=MODEL, max_tokens=50, messages=MESSAGES)
    pending = [v for v in vars(manager).values() if inspect.iscoroutine(v)]
    with pytest.raises(SpendingCapExceeded):
        async with manager:
            pass
    # The request .stream() prepared is closed, not left for Python to warn about
    # ("coroutine ... was never awaited") whenever it is collected.
    assert [inspect.getcoroutinestate(c) for c in pending] == [inspect.CORO_CLOSED]
    assert provider.requests == []
    assert llmobserve.flush(5)
    assert collector.events == []
