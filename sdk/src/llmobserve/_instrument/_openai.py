"""Instrumentation of the ``openai`` package (OpenAI, AzureOpenAI and compatible hosts).

Streaming chat requests get ``stream_options.include_usage`` added when the host is
known to accept it, so the provider reports exact usage in one last chunk; as the
user did not ask for that chunk (its ``choices`` list is empty and would break the
common ``chunk.choices[0]`` loop) it is hidden from them. Other hosts are left as
they are: a chunk that carries usage is read, else usage is estimated and the event
marked ``estimated``. So are ``with_raw_response`` and ``with_streaming_response``
streams, whose bytes may reach the user unparsed, where no chunk can be hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from .._runtime import Runtime
from .._usage import field, from_openai_chat, from_openai_embedding, from_openai_responses
from ._streams import StreamObserver
from ._wrappers import MethodSpec, async_wrapper, sync_wrapper

#: Set (lowercase here) by the client library's raw and streaming response wrappers.
RAW_RESPONSE_HEADER = "x-stainless-raw-response"

#: Hosts whose OpenAI-compatible streaming accepts stream_options.include_usage.
INCLUDE_USAGE_PROVIDERS = frozenset(
    {
        "openai",
        "azure",
        "groq",
        "deepseek",
        "together",
        "openrouter",
        "xai",
        "fireworks",
        "cerebras",
        "google",
        "deepinfra",
    }
)


def provider_of(runtime: Runtime, resource: Any) -> str:
    """The provider billing a resource's calls, from its client's class and base URL."""
    client = getattr(resource, "_client", None)
    default = "azure" if "Azure" in type(client).__name__ else "openai"
    return runtime.providers.resolve(getattr(client, "base_url", ""), default)


def add_include_usage(
    runtime: Runtime, provider: str, kwargs: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Ask for the usage chunk when the user did not; True when it must be hidden."""
    if (
        not runtime.config.inject_stream_usage
        or provider not in INCLUDE_USAGE_PROVIDERS
        or wants_raw_response(kwargs)
    ):
        return kwargs, False
    options = kwargs.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return kwargs, False
    merged = dict(options) if isinstance(options, dict) else {}
    merged["include_usage"] = True
    return {**kwargs, "stream_options": merged}, True


def wants_raw_response(kwargs: dict[str, Any]) -> bool:
    """True for ``with_raw_response`` and ``with_streaming_response`` requests."""
    headers = kwargs.get("extra_headers")
    return isinstance(headers, Mapping) and any(
        isinstance(name, str) and name.lower() == RAW_RESPONSE_HEADER for name in headers
    )


class ChatChunkObserver(StreamObserver):
    """Reads ChatCompletionChunk (and legacy Completion) streams."""

    def __init__(self, hide_usage_chunk: bool) -> None:
        super().__init__()
        self.hide_usage_chunk = hide_usage_chunk

    def observe(self, item: Any) -> bool:
        if self.model is None:
            self.model = field(item, "model")
        choices = field(item, "choices")
        usage = field(item, "usage")
        if usage is not None:
            self.usage = from_openai_chat(usage)
            if self.hide_usage_chunk and not choices:
                return False
        for choice in choices or ():
            delta = field(choice, "delta")
            text = field(delta, "content") if delta is not None else field(choice, "text")
            if isinstance(text, str):
                self.output_chars += len(text)
            for tool_call in field(delta, "tool_calls") or ():
                arguments = field(field(tool_call, "function"), "arguments")
                if isinstance(arguments, str):
                    self.output_chars += len(arguments)
        return True


class ResponsesEventObserver(StreamObserver):
    """Reads Responses API event streams; usage comes with the terminal event."""

    TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def __init__(self, hide_usage_chunk: bool) -> None:
        super().__init__()

    def observe(self, item: Any) -> bool:
        kind = field(item, "type")
        if kind == "response.output_text.delta":
            delta = field(item, "delta")
            if isinstance(delta, str):
                self.output_chars += len(delta)
        elif kind == "response.created" or kind in self.TERMINAL:
            response = field(item, "response")
            self.model = field(response, "model") or self.model
            if kind in self.TERMINAL:
                self.usage = from_openai_responses(field(response, "usage")) or self.usage
        return True


CHAT = MethodSpec("chat", provider_of, from_openai_chat, ChatChunkObserver, add_include_usage)
CHAT_PARSE = MethodSpec("chat", provider_of, from_openai_chat)
COMPLETION = MethodSpec(
    "completion", provider_of, from_openai_chat, ChatChunkObserver, add_include_usage
)
RESPONSES = MethodSpec("responses", provider_of, from_openai_responses, ResponsesEventObserver)
RESPONSES_PARSE = MethodSpec("responses", provider_of, from_openai_responses)
EMBEDDING = MethodSpec("embedding", provider_of, from_openai_embedding)

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_EMBEDDINGS = "openai.resources.embeddings"
_COMPLETIONS = "openai.resources.completions"

#: (module, class, method, wrapper)
TARGETS: tuple[tuple[str, str, str, Callable[..., Any]], ...] = (
    (_CHAT, "Completions", "create", sync_wrapper(CHAT)),
    (_CHAT, "AsyncCompletions", "create", async_wrapper(CHAT)),
    (_CHAT, "Completions", "parse", sync_wrapper(CHAT_PARSE)),
    (_CHAT, "AsyncCompletions", "parse", async_wrapper(CHAT_PARSE)),
    (_RESPONSES, "Responses", "create", sync_wrapper(RESPONSES)),
    (_RESPONSES, "AsyncResponses", "create", async_wrapper(RESPONSES)),
    (_RESPONSES, "Responses", "parse", sync_wrapper(RESPONSES_PARSE)),
    (_RESPONSES, "AsyncResponses", "parse", async_wrapper(RESPONSES_PARSE)),
    (_EMBEDDINGS, "Embeddings", "create", sync_wrapper(EMBEDDING)),
    (_EMBEDDINGS, "AsyncEmbeddings", "create", async_wrapper(EMBEDDING)),
    (_COMPLETIONS, "Completions", "create", sync_wrapper(COMPLETION)),
    (_COMPLETIONS, "AsyncCompletions", "create", async_wrapper(COMPLETION)),
)
