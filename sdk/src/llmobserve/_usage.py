"""Provider usage normalised to the wire format's token counts (see docs/wire-format.md).

Responses arrive as pydantic models from the client libraries, but a proxy or a
provider's OpenAI-compatible endpoint can leave fields out or send them as null, so
every read here tolerates a missing or malformed field and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_TOKENS = 100_000_000


@dataclass(frozen=True)
class Usage:
    """Token counts exactly as the collector bills them.

    ``input_tokens`` excludes cache reads and writes; ``output_tokens`` includes
    reasoning tokens, of which ``reasoning_tokens`` is the informational part.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def to_wire(self) -> dict[str, int]:
        """Return the ``usage`` object of an event, with counts clamped to the valid range."""
        output = _clamp(self.output_tokens)
        return {
            "input_tokens": _clamp(self.input_tokens),
            "output_tokens": output,
            "cache_read_tokens": _clamp(self.cache_read_tokens),
            "cache_write_tokens": _clamp(self.cache_write_tokens),
            "reasoning_tokens": min(_clamp(self.reasoning_tokens), output),
        }


ZERO = Usage()


def _clamp(value: int) -> int:
    return max(0, min(MAX_TOKENS, value))


def field(obj: Any, name: str) -> Any:
    """Read ``name`` from a pydantic model, a plain object or a dict; None when absent."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def count(obj: Any, name: str) -> int:
    """Read a token count, treating anything that is not a non-negative int as 0."""
    value = field(obj, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def from_openai_chat(usage: Any) -> Usage | None:
    """Normalise a chat/completions ``usage`` block; cache reads and writes inside
    ``prompt_tokens`` are split off, so each prompt token is billed once."""
    return _openai_usage(usage, prompt="prompt_tokens", output="completion_tokens")


def from_openai_responses(usage: Any) -> Usage | None:
    """Normalise a Responses API ``usage`` block, by the same rule as chat."""
    return _openai_usage(usage, prompt="input_tokens", output="output_tokens")


def _openai_usage(usage: Any, prompt: str, output: str) -> Usage | None:
    """Both OpenAI shapes: `prompt` and `output` name the counts, each with its
    ``<name>_details`` block (cache counts in the prompt's, reasoning in the output's)."""
    if usage is None:
        return None
    prompt_tokens = count(usage, prompt)
    details = field(usage, f"{prompt}_details")
    cached = min(count(details, "cached_tokens"), prompt_tokens)
    written = min(count(details, "cache_write_tokens"), prompt_tokens - cached)
    output_tokens = count(usage, output)
    reasoning = count(field(usage, f"{output}_details"), "reasoning_tokens")
    return Usage(
        input_tokens=prompt_tokens - cached - written,
        output_tokens=output_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=min(reasoning, output_tokens),
    )


def from_openai_embedding(usage: Any) -> Usage | None:
    """Normalise an embeddings ``usage`` block: all of it is input."""
    if usage is None:
        return None
    return Usage(input_tokens=count(usage, "prompt_tokens"))


def from_anthropic(usage: Any) -> Usage | None:
    """Normalise an Anthropic ``usage`` block.

    Anthropic's ``input_tokens`` already excludes both cache counts, so they are
    kept apart and never added to it (adding them bills cached tokens twice).
    """
    if usage is None:
        return None
    return Usage(
        input_tokens=count(usage, "input_tokens"),
        output_tokens=count(usage, "output_tokens"),
        cache_read_tokens=count(usage, "cache_read_input_tokens"),
        cache_write_tokens=count(usage, "cache_creation_input_tokens"),
    )


def merge_anthropic_delta(base: Usage | None, delta: Any) -> Usage | None:
    """Apply a ``message_delta`` usage block to the usage known from ``message_start``.

    The delta's counts are cumulative totals, not increments, and any of them may be
    null, in which case the earlier value stands.
    """
    if delta is None:
        return base
    known = base or ZERO

    def pick(name: str, current: int) -> int:
        value = field(delta, name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        return current

    return Usage(
        input_tokens=pick("input_tokens", known.input_tokens),
        output_tokens=pick("output_tokens", known.output_tokens),
        cache_read_tokens=pick("cache_read_input_tokens", known.cache_read_tokens),
        cache_write_tokens=pick("cache_creation_input_tokens", known.cache_write_tokens),
    )
