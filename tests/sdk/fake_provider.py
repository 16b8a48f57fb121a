"""A loopback stand-in for the OpenAI and Anthropic HTTP APIs, with real-shaped bodies.

Models steer failures: ``fail-500`` answers 500, ``fail-400`` answers 400, and
``fail-midstream`` breaks a stream after its first chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._server import LoopbackServer, Reply, Request


@dataclass
class OpenAIUsage:
    prompt_tokens: int = 1200
    cached_tokens: int = 200
    completion_tokens: int = 300
    reasoning_tokens: int = 50

    def chat(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def responses(self) -> dict[str, Any]:
        return {
            "input_tokens": self.prompt_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens},
            "output_tokens": self.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


@dataclass
class AnthropicUsage:
    input_tokens: int = 20
    cache_read_input_tokens: int = 1000
    cache_creation_input_tokens: int = 500
    output_tokens: int = 80

    def start(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": 1,
            "service_tier": "standard",
        }

    def final(self) -> dict[str, Any]:
        return {**self.start(), "output_tokens": self.output_tokens}


@dataclass
class FakeProvider:
    openai_usage: OpenAIUsage = field(default_factory=OpenAIUsage)
    anthropic_usage: AnthropicUsage = field(default_factory=AnthropicUsage)
    requests: list[Request] = field(default_factory=list)
    reply_model: str | None = None
    #: Sent verbatim as the chat usage block instead of ``openai_usage``.
    raw_chat_usage: Any = None

    def __post_init__(self) -> None:
        self.server = LoopbackServer(self.handle)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()

    def handle(self, request: Request) -> Reply:
        self.requests.append(request)
        body = request.body or {}
        model = body.get("model", "")
        if model == "fail-500":
            return Reply(500, {"error": {"message": "boom", "type": "server_error"}})
        if model == "fail-400":
            return Reply(
                400, {"error": {"message": "bad request", "type": "invalid_request_error"}}
            )
        path = request.path.split("?")[0]
        if "/deployments/" in path:  # Azure puts the deployment in the path
            path = "/v1/" + path.split("/", 4)[-1]
        route = {
            "/v1/chat/completions": self.chat,
            "/v1/responses": self.responses,
            "/v1/embeddings": self.embeddings,
            "/v1/messages": self.messages,
        }.get(path)
        if route is None:
            return Reply(404, {"error": {"message": f"no route {request.path}"}})
        return route(body)

    # -- OpenAI ------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> Reply:
        model = self.reply_model or f"{body['model']}-2024-08-06"
        if not body.get("stream"):
            return Reply(
                body={
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1_764_000_000,
                    "model": model,
                    "system_fingerprint": "fp_1",
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": '{"answer": "42"}',
                                "refusal": None,
                            },
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": self.raw_chat_usage or self.openai_usage.chat(),
                    "service_tier": "default",
                }
            )
        include_usage = (body.get("stream_options") or {}).get("include_usage") is True

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1_764_000_000,
                "model": model,
                "system_fingerprint": "fp_1",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                data["usage"] = None
            return data

        events: list[tuple[str | None, Any]] = [
            (None, chunk({"role": "assistant", "content": "", "refusal": None})),
            (None, chunk({"content": "Hello"})),
        ]
        if body["model"] == "fail-midstream":
            events.append((None, {"error": {"message": "overloaded", "type": "server_error"}}))
            return Reply(sse=events)
        events += [(None, chunk({"content": " world"})), (None, chunk({}, "stop"))]
        if include_usage:
            events.append(
                (
                    None,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion.chunk",
                        "created": 1_764_000_000,
                        "model": model,
                        "system_fingerprint": "fp_1",
                        "choices": [],
                        "usage": self.openai_usage.chat(),
                    },
                )
            )
        events.append((None, "[DONE]"))
        return Reply(sse=events)

    def _response(self, model: str, status: str, usage: dict[str, Any] | None) -> dict[str, Any]:
        output = (
            []
            if status == "in_progress"
            else [
                {
                    "id": "msg_1",
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello world", "annotations": []}],
                }
            ]
        )
        return {
            "id": "resp_1",
            "object": "response",
            "created_at": 1_764_000_000,
            "status": status,
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": usage,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "metadata": {},
            "temperature": 1.0,
            "top_p": 1.0,
            "text": {"format": {"type": "text"}},
        }

    def responses(self, body: dict[str, Any]) -> Reply:
        model = f"{body['model']}-2024-08-06"
        usage = self.openai_usage.responses()
        if not body.get("stream"):
            return Reply(body=self._response(model, "completed", usage))
        item = {
            "id": "msg_1",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        part = {"type": "output_text", "text": "", "annotations": []}
        events: list[tuple[str | None, Any]] = [
            (
                "response.created",
                {
                    "type": "response.created",
                    "sequence_number": 0,
                    "response": self._response(model, "in_progress", None),
                },
            ),
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "sequence_number": 1,
                    "output_index": 0,
                    "item": item,
                },
            ),
            (
                "response.content_part.added",
                {
                    "type": "response.content_part.added",
                    "sequence_number": 2,
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "part": part,
                },
            ),
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": 3,
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "Hello world",
                    "logprobs": [],
                },
            ),
            (
                "response.completed",
                {
                    "type": "response.completed",
                    "sequence_number": 4,
                    "response": self._response(model, "completed", usage),
                },
            ),
        ]
        return Reply(sse=events)

    def embeddings(self, body: dict[str, Any]) -> Reply:
        return Reply(
            body={
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "model": body["model"],
                "usage": {"prompt_tokens": 8, "total_tokens": 8},
            }
        )

    # -- Anthropic ---------------------------------------------------------------

    def messages(self, body: dict[str, Any]) -> Reply:
        model = self.reply_model or body["model"]
        usage = self.anthropic_usage
        message = {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "Hello world"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage.final(),
        }
        if not body.get("stream"):
            return Reply(body=message)
        start = {**message, "content": [], "stop_reason": None, "usage": usage.start()}
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "Hello"},
                },
            ),
        ]
        if body["model"] == "fail-midstream":
            events.append(
                (
                    "error",
                    {
                        "type": "error",
                        "error": {"type": "overloaded_error", "message": "Overloaded"},
                    },
                )
            )
            return Reply(sse=events)
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": " world"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": usage.output_tokens},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return Reply(sse=events)
