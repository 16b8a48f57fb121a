from __future__ import annotations

import asyncio
import gc

import llmobserve
import openai
import pytest
from llmobserve._instrument._openai import provider_of
from llmobserve._runtime import Config, Runtime
from pydantic import BaseModel

from .conftest import Observe, only_event
from .fake_collector import FakeCollector
from .fake_provider import FakeProvider

MESSAGES = [{"role": "user", "content": "Say hello to the world, please."}]
CHAT_USAGE = {
    "input_tokens": 1000,
    "output_tokens": 300,
    "cache_read_tokens": 200,
    "cache_write_tokens": 0,
    "reasoning_tokens": 50,
}


def test_chat_completion_is_recorded_with_normalised_usage(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe(tags={"env": "test"})
    with llmobserve.customer("cus_1"), llmobserve.agent("planner"):
        reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.choices[0].message.content == '{"answer": "42"}'
    event = only_event(collector)
    assert event["provider"] == "openai"
    assert event["model"] == "gpt-4o-2024-08-06"
    assert event["operation"] == "chat"
    assert event["usage"] == CHAT_USAGE
    assert event["status"] == "ok"
    assert event["customer_id"] == "cus_1"
    assert event["agent"] == "planner"
    assert event["tags"] == {"env": "test"}
    assert event["estimated"] is False
    assert event["reservation_id"] is None
    assert collector.batches[0].headers["authorization"] == "Bearer llmo_sk_test"


async def test_async_chat_completion_is_recorded(
    observe: Observe, collector: FakeCollector, async_openai_client: openai.AsyncOpenAI
) -> None:
    observe()

    @llmobserve.agent("async_agent")
    async def ask(customer: str) -> None:
        llmobserve.set_customer_id(customer)
        await async_openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    await asyncio.gather(ask("cus_a"), ask("cus_b"))
    assert llmobserve.flush(5)
    events = collector.events
    assert sorted(e["customer_id"] for e in events) == ["cus_a", "cus_b"]
    assert {e["agent"] for e in events} == {"async_agent"}
    assert all(e["usage"] == CHAT_USAGE for e in events)


def test_parse_is_recorded_once(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    class Answer(BaseModel):
        answer: str

    observe()
    parsed = openai_client.chat.completions.parse(
        model="gpt-4o", messages=MESSAGES, response_format=Answer
    )
    assert parsed.choices[0].message.parsed == Answer(answer="42")
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_stream_without_include_usage_gets_it_injected_and_hidden(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    observe()
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert isinstance(stream, openai.Stream)
    # The common loop that indexes choices[0] must keep working: no empty-choices chunk.
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Hello world"
    assert provider.requests[0].body["stream_options"] == {"include_usage": True}
    event = only_event(collector)
    assert event["usage"] == CHAT_USAGE
    assert event["estimated"] is False


def test_stream_with_include_usage_shows_the_usage_chunk_to_the_user(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with openai_client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 1200
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_stream_helper_is_recorded(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with openai_client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello world"
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_stream_injection_can_be_turned_off_and_usage_is_then_estimated(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    observe(inject_stream_usage=False)
    for _ in openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):
        pass
    assert "stream_options" not in provider.requests[0].body
    event = only_event(collector)
    assert event["estimated"] is True
    # 31 prompt characters -> 8 tokens, plus 4 of message framing; 11 characters out -> 3.
    assert event["usage"]["input_tokens"] == 12
    assert event["usage"]["output_tokens"] == 3


def test_abandoned_stream_is_recorded_when_dropped(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    for chunk in stream:
        if chunk.choices[0].delta.content == "Hello":
            break
    del stream, chunk
    gc.collect()
    event = only_event(collector)
    assert event["status"] == "ok"
    assert event["estimated"] is True  # OpenAI reports usage only at the end
    assert event["usage"]["output_tokens"] == 2  # "Hello" seen so far


def test_async_stream_is_recorded(
    observe: Observe, collector: FakeCollector, async_openai_client: openai.AsyncOpenAI
) -> None:
    observe()

    async def main() -> str:
        stream = await async_openai_client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(main()) == "Hello world"
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_responses_create_and_stream(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    response = openai_client.responses.create(model="gpt-4o", input="Say hello")
    assert response.output_text == "Hello world"
    for _ in openai_client.responses.create(model="gpt-4o", input="Say hello", stream=True):
        pass
    assert llmobserve.flush(5)
    events = collector.events
    assert [e["operation"] for e in events] == ["responses", "responses"]
    assert all(e["usage"] == CHAT_USAGE for e in events)
    assert all(e["model"] == "gpt-4o-2024-08-06" for e in events)


def test_embeddings_are_recorded(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    openai_client.embeddings.create(model="text-embedding-3-small", input="hello")
    event = only_event(collector)
    assert event["operation"] == "embedding"
    assert event["usage"]["input_tokens"] == 8
    assert event["usage"]["output_tokens"] == 0


def test_failed_call_records_an_error_event_at_no_cost(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with pytest.raises(openai.InternalServerError):
        openai_client.chat.completions.create(model="fail-500", messages=MESSAGES)
    event = only_event(collector)
    assert event["status"] == "error"
    assert set(event["usage"].values()) == {0}


def test_stream_failing_midway_records_an_error(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    stream = openai_client.chat.completions.create(
        model="fail-midstream", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
    assert only_event(collector)["status"] == "error"


def test_azure_client_is_attributed_to_azure(
    observe: Observe, collector: FakeCollector, provider: FakeProvider
) -> None:
    observe()
    client = openai.AzureOpenAI(
        api_key="az", api_version="2024-10-21", base_url=f"{provider.url}/v1", max_retries=0
    )
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert only_event(collector)["provider"] == "azure"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.openai.com/v1", "openai"),
        ("https://api.groq.com/openai/v1", "groq"),
        ("https://api.deepseek.com", "deepseek"),
        ("https://api.together.xyz/v1", "together"),
        ("https://openrouter.ai/api/v1", "openrouter"),
        ("https://api.mistral.ai/v1", "mistral"),
        ("https://api.x.ai/v1", "xai"),
        ("https://api.fireworks.ai/inference/v1", "fireworks"),
        ("https://api.perplexity.ai", "perplexity"),
        ("https://generativelanguage.googleapis.com/v1beta/openai/", "google"),
        ("https://my-resource.openai.azure.com/openai/v1", "azure"),
        ("http://localhost:11434/v1", "openai"),
    ],
)
def test_openai_compatible_hosts_map_to_their_provider(base_url: str, expected: str) -> None:
    runtime = Runtime(Config(collector_url=None, api_key=None))
    client = openai.OpenAI(api_key="k", base_url=base_url)
    assert provider_of(runtime, client.chat.completions) == expected


def test_base_url_providers_override_unknown_hosts(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    observe(base_url_providers={f"127.0.0.1:{provider.server.port}": "groq"})
    openai_client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
    event = only_event(collector)
    assert event["provider"] == "groq"
    assert event["model"] == "llama-3.3-70b-versatile-2024-08-06"


def test_malformed_usage_never_breaks_the_call(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    observe()
    provider.raw_chat_usage = {
        "prompt_tokens": "lots",
        "completion_tokens": None,
        "prompt_tokens_details": [1, 2],
    }
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.choices[0].message.content
    assert only_event(collector)["status"] == "ok"


def test_calls_pass_through_after_shutdown(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    llmobserve.shutdown()
    openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert collector.events == []


def test_with_raw_response_is_recorded(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    raw = openai_client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.headers["content-type"] == "application/json"
    assert raw.parse().usage is not None
    assert only_event(collector)["usage"] == CHAT_USAGE
