"""``with_streaming_response`` and ``with_raw_response``: the body is read after the call."""

from __future__ import annotations

import gc
from typing import Any

import llmobserve
import openai
import pytest

from .conftest import Observe, only_event
from .fake_collector import FakeCollector
from .fake_provider import FakeProvider
from .test_openai import CHAT_USAGE, MESSAGES

INCLUDE_USAGE = {"include_usage": True}


def unobserved(provider: FakeProvider) -> Any:
    """A client's ``with_streaming_response`` used while the SDK is not observing."""
    client = openai.OpenAI(api_key="sk-test", base_url=f"{provider.url}/v1", max_retries=0)
    return client.chat.completions.with_streaming_response


def test_streaming_response_is_recorded_with_exact_usage_when_parsed(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    with unobserved(provider).create(model="gpt-4o", messages=MESSAGES) as response:
        expected = response.parse()
    observe()
    chat = openai_client.chat.completions.with_streaming_response
    with llmobserve.customer("cus_1"), chat.create(model="gpt-4o", messages=MESSAGES) as response:
        assert isinstance(response, openai.APIResponse)
        assert response.headers["content-type"] == "application/json"
        assert response.http_response.is_closed is False  # the SDK read none of it
        completion = response.parse()
        assert response.parse() is completion
    assert type(completion) is type(expected)
    assert completion.model_dump() == expected.model_dump()
    event = only_event(collector)
    assert event["usage"] == CHAT_USAGE
    assert event["estimated"] is False
    assert event["model"] == "gpt-4o-2024-08-06"
    assert event["customer_id"] == "cus_1"


async def test_async_streaming_response_is_recorded_with_exact_usage_when_parsed(
    observe: Observe, collector: FakeCollector, async_openai_client: openai.AsyncOpenAI
) -> None:
    observe()
    async with async_openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES
    ) as response:
        assert isinstance(response, openai.AsyncAPIResponse)
        completion = await response.parse()
    assert completion.choices[0].message.content == '{"answer": "42"}'
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_streaming_response_of_responses_and_embeddings(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with openai_client.responses.with_streaming_response.create(
        model="gpt-4o", input="Say hello"
    ) as response:
        assert response.parse().output_text == "Hello world"
    with openai_client.embeddings.with_streaming_response.create(
        model="text-embedding-3-small", input="hello"
    ) as response:
        response.parse()
    assert llmobserve.flush(5)
    events = collector.events
    assert [e["operation"] for e in events] == ["responses", "embedding"]
    assert events[0]["usage"] == CHAT_USAGE
    assert events[1]["usage"]["input_tokens"] == 8
    assert not any(e["estimated"] for e in events)


def test_streamed_chunks_parsed_from_a_streaming_response_are_tracked(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options=INCLUDE_USAGE
    ) as response:
        stream = response.parse()
        assert isinstance(stream, openai.Stream)
        assert response.parse() is stream
        chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == "Hello world"
    assert chunks[-1].choices == []  # the usage chunk the user asked for
    event = only_event(collector)
    assert event["usage"] == CHAT_USAGE
    assert event["estimated"] is False


async def test_async_streamed_chunks_parsed_from_a_streaming_response_are_tracked(
    observe: Observe, collector: FakeCollector, async_openai_client: openai.AsyncOpenAI
) -> None:
    observe()
    async with async_openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options=INCLUDE_USAGE
    ) as response:
        stream = await response.parse()
        assert isinstance(stream, openai.AsyncStream)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello world"
    assert only_event(collector)["usage"] == CHAT_USAGE


def test_streaming_response_bytes_are_those_the_user_asked_for(
    observe: Observe,
    collector: FakeCollector,
    provider: FakeProvider,
    openai_client: openai.OpenAI,
) -> None:
    with unobserved(provider).create(model="gpt-4o", messages=MESSAGES, stream=True) as response:
        expected = list(response.iter_lines())
    observe()
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    ) as response:
        lines = list(response.iter_lines())
    # No usage chunk is injected: raw lines reach the user, where it could not be hidden.
    assert lines == expected
    assert "stream_options" not in provider.requests[1].body
    assert only_event(collector)["estimated"] is True


def _read(response: Any, how: str) -> None:
    if how == "read":
        response.read()
    elif how == "json":
        response.json()
    elif how == "iter_bytes":
        b"".join(response.iter_bytes())
    elif how == "iter_lines":
        list(response.iter_lines())


@pytest.mark.parametrize(
    ("stream", "how"),
    [(False, how) for how in ("read", "json", "iter_bytes", "iter_lines", "nothing")]
    + [(True, how) for how in ("read", "iter_bytes", "iter_lines", "nothing")],
)
def test_streaming_response_never_parsed_is_recorded_once_on_exit(
    observe: Observe,
    collector: FakeCollector,
    openai_client: openai.OpenAI,
    stream: bool,
    how: str,
) -> None:
    observe()
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=stream
    ) as response:
        _read(response, how)
        assert llmobserve.flush(5)
        assert collector.events == []  # not before the response is closed
    del response
    gc.collect()
    event = only_event(collector)
    assert event["status"] == "ok"
    assert event["estimated"] is True
    assert event["usage"]["input_tokens"] == 12  # 31 prompt characters, as estimated


def test_streaming_response_failing_call_records_an_error(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    with (
        pytest.raises(openai.InternalServerError),
        openai_client.chat.completions.with_streaming_response.create(
            model="fail-500", messages=MESSAGES
        ),
    ):
        pass
    assert only_event(collector)["status"] == "error"


def test_raw_response_stream_is_tracked_once_parsed(
    observe: Observe, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    observe()
    stream = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options=INCLUDE_USAGE
    ).parse()
    gc.collect()  # the raw response is gone; its stream records the call, not it
    assert llmobserve.flush(5)
    assert collector.events == []
    assert len(list(stream)) == 5
    event = only_event(collector)
    assert event["usage"] == CHAT_USAGE
    assert event["estimated"] is False
