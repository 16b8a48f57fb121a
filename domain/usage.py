"""Token usage, normalised so that no provider's semantics can double-bill a token.

Normal form: `input_tokens` are prompt tokens at the plain input price (cache
reads and writes excluded); `output_tokens` include reasoning tokens;
`reasoning_tokens` is the reasoning share of output, never billed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TOKENS_PER_EVENT = 100_000_000


_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


class InvalidUsage(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        # This runs for every ingested event: one pass over the values, and only a refused
        # count looks up which field it was.
        for value in (
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.reasoning_tokens,
        ):
            if type(value) is not int or not 0 <= value <= MAX_TOKENS_PER_EVENT:
                self._refuse_counts()
        if self.reasoning_tokens > self.output_tokens:
            raise InvalidUsage(
                "reasoning_tokens", "cannot exceed output_tokens (reasoning is part of output)"
            )

    def _refuse_counts(self) -> None:
        for name in _COUNTS:
            value = getattr(self, name)
            if type(value) is not int:
                raise InvalidUsage(name, "must be an integer")
            if not 0 <= value <= MAX_TOKENS_PER_EVENT:
                raise InvalidUsage(name, f"must be between 0 and {MAX_TOKENS_PER_EVENT}")

    @property
    def prompt_tokens(self) -> int:
        """Every token of the prompt, however it was billed."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )

    @classmethod
    def from_openai(
        cls,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        reasoning_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Usage:
        """OpenAI counts cache reads and cache writes inside `prompt_tokens`; take them out once."""
        if cached_tokens + cache_write_tokens > prompt_tokens:
            raise InvalidUsage(
                "cached_tokens", "cache reads and writes cannot exceed prompt_tokens"
            )
        return cls(
            input_tokens=prompt_tokens - cached_tokens - cache_write_tokens,
            output_tokens=completion_tokens,
            cache_read_tokens=cached_tokens,
            cache_write_tokens=cache_write_tokens,
            reasoning_tokens=reasoning_tokens,
        )

    @classmethod
    def from_anthropic(
        cls,
        input_tokens: int,
        output_tokens: int,
        cache_read_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
    ) -> Usage:
        """Anthropic reports cache reads and writes beside `input_tokens`, not inside."""
        return cls(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_input_tokens,
            cache_write_tokens=cache_creation_input_tokens,
        )
