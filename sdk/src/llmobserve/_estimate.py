"""Estimates of a call's usage, made before the call (for cap reservations) or when a
provider does not report usage (the event is then marked ``estimated``).

About four characters per token is the usual rule of thumb for English text with
both OpenAI's and Anthropic's tokenisers; it only has to be right within the margin
that a reservation already carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CHARS_PER_TOKEN = 4

# Output limits of common models, used when a request sets no max_tokens: the
# reservation must cover the worst case. Prefixes, longest match wins.
DEFAULT_OUTPUT_LIMITS: Mapping[str, int] = {
    "gpt-4o": 16_384,
    "gpt-4o-mini": 16_384,
    "gpt-4.1": 32_768,
    "gpt-4-turbo": 4_096,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 4_096,
    "gpt-5": 128_000,
    "o1": 100_000,
    "o3": 100_000,
    "o4-mini": 100_000,
    "claude-3-haiku": 4_096,
    "claude-3-5-haiku": 8_192,
    "claude-3-5-sonnet": 8_192,
    "claude-3-7-sonnet": 64_000,
    "claude-sonnet-4": 64_000,
    "claude-opus-4": 32_000,
    "claude-haiku-4": 64_000,
}
FALLBACK_OUTPUT_LIMIT = 4_096


def tokens_for_chars(chars: int) -> int:
    """Tokens for ``chars`` characters of text, rounded up."""
    return -(-chars // CHARS_PER_TOKEN)


def text_chars(value: Any, depth: int = 0) -> int:
    """Count the characters of text inside a prompt: strings, message lists, content parts.

    Only the text a tokenizer would see is counted (``content``, ``text``, ``input``,
    ``system``...), not keys or roles, and nesting is bounded so a cyclic or huge
    structure can't stall the caller.
    """
    if depth > 8:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        total = 0
        for key in ("content", "text", "input", "arguments", "output", "instructions"):
            if key in value:
                total += text_chars(value[key], depth + 1)
        return total
    if isinstance(value, (list, tuple)):
        return sum(text_chars(item, depth + 1) for item in value)
    return 0


def prompt_tokens(kwargs: Mapping[str, Any]) -> int:
    """Estimate the input tokens of a request from its prompt-bearing arguments."""
    chars = 0
    for key in ("messages", "input", "system", "instructions", "prompt"):
        if key in kwargs:
            chars += text_chars(kwargs[key])
    # Every message costs a few tokens of framing on top of its text.
    messages = kwargs.get("messages")
    framing = 4 * len(messages) if isinstance(messages, (list, tuple)) else 0
    return tokens_for_chars(chars) + framing


def output_limit(model: str | None, kwargs: Mapping[str, Any]) -> int:
    """The most output tokens the request can produce: its own limit, else the model's."""
    for key in ("max_completion_tokens", "max_output_tokens", "max_tokens"):
        value = kwargs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    name = (model or "").lower()
    best = ""
    for prefix in DEFAULT_OUTPUT_LIMITS:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return DEFAULT_OUTPUT_LIMITS[best] if best else FALLBACK_OUTPUT_LIMIT
