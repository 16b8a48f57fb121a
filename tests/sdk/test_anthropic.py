from __future__ import annotations

import asyncio
import gc

import anthropic
import llmobserve
import pytest

from .conftest import Observe, only_event
from .fake_collector import FakeCollector
from .fake_provider import FakeProvider

MODEL = "claude-sonnet-4-6"
MESSAGES = [{"role": "user", "content": "Say hello"}]
# Anthropic's input_tokens excludes both cache counts: they must stay apart, or the
# 1,500 cached tokens would be billed a second time at the plain input price.
USAGE = {
    "input_tokens": 20,
    "output_tokens": 80,
    "cache_read_tokens": 1000,
    "cache_write_tokens": 500,
    "reasoning_tokens": 0,
}


def test_message_is_recorded_without_double_billing_cache_tokens(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    with llmobserve.customer("cus_7"):
        message = anthropic_client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)
    assert message.content[0].text == "Hello world"
    event = only_event(collector)
    assert event["provider"] == "anthropic"
    assert event["model"] == MODEL
    assert event["usage"] == USAGE
    assert event["customer_id"] == "cus_7"


def test_raw_stream_reads_message_start_and_message_delta(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    stream = anthropic_client.messages.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, stream=True
    )
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    event = only_event(collector)
    assert event["usage"] == USAGE
    assert event["estimated"] is False


def test_stream_helper_is_recorded_with_final_usage(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    with (
        llmobserve.agent("writer"),
        anthropic_client.messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello world"
    assert final.usage.output_tokens == 80
    event = only_event(collector)
    assert event["usage"] == USAGE
    assert event["agent"] == "writer"


def test_async_create_and_stream_helper(
    observe: Observe, collector: FakeCollector, async_anthropic_client: anthropic.AsyncAnthropic
) -> None:
    observe()

    async def main() -> str:
        await async_anthropic_client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)
        async with async_anthropic_client.messages.stream(
            model=MODEL, max_tokens=256, messages=MESSAGES
        ) as stream:
            return await stream.get_final_text()

    assert asyncio.run(main()) == "Hello world"
    assert llmobserve.flush(5)
    assert [e["usage"] for e in collector.events] == [USAGE, USAGE]


def test_abandoned_stream_reports_what_message_start_said(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    stream = anthropic_client.messages.create(
        model=MODEL, max_tokens=256, messages=MESSAGES, stream=True
    )
    for event in stream:
        if event.type == "content_block_delta":
            break
    del stream, event
    gc.collect()
    recorded = only_event(collector)
    # Input and cache counts came in message_start; output so far was 1 token.
    assert recorded["usage"] == {**USAGE, "output_tokens": 1}
    assert recorded["estimated"] is False


def test_failed_call_costs_nothing(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(model="fail-400", max_tokens=10, messages=MESSAGES)
    event = only_event(collector)
    assert event["status"] == "error"
    assert set(event["usage"].values()) == {0}


def test_stream_error_after_message_start_keeps_the_usage_already_reported(
    observe: Observe, collector: FakeCollector, anthropic_client: anthropic.Anthropic
) -> None:
    observe()
    stream = anthropic_client.messages.stream(
        model="fail-midstream", max_tokens=10, messages=MESSAGES
    )
    with pytest.raises(anthropic.APIStatusError), stream as events:
        for _ in events:
            pass
    event = only_event(collector)
    # The provider billed the prompt it had started on: that cost is not dropped.
    assert event["status"] == "ok"
    assert event["usage"]["cache_read_tokens"] == 1000


def test_unknown_model_is_sent_with_its_raw_usage(
    observe: Observe,
    collector: FakeCollector,
    anthropic_client: anthropic.Anthropic,
    provider: FakeProvider,
) -> None:
    observe()
    anthropic_client.messages.create(model="claude-next-9", max_tokens=16, messages=MESSAGES)
    event = only_event(collector)
    assert event["model"] == "claude-next-9"
    assert event["usage"] == USAGE
