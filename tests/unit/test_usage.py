from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.usage import MAX_TOKENS_PER_EVENT, InvalidUsage, Usage

counts = st.integers(min_value=0, max_value=1_000_000)


@given(counts, counts, counts, counts)
def test_openai_cached_tokens_are_counted_once(
    prompt: int, completion: int, cached: int, reasoning: int
) -> None:
    cached = min(cached, prompt)
    reasoning = min(reasoning, completion)
    usage = Usage.from_openai(prompt, completion, cached, reasoning)
    assert usage.prompt_tokens == prompt  # nothing dropped, nothing added
    assert usage.cache_read_tokens == cached
    assert usage.input_tokens == prompt - cached
    assert usage.output_tokens == completion  # reasoning stays inside output


@given(counts, counts, counts, counts)
def test_anthropic_cache_tokens_sit_beside_input(inp: int, out: int, read: int, write: int) -> None:
    usage = Usage.from_anthropic(inp, out, read, write)
    assert usage.prompt_tokens == inp + read + write
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        inp,
        read,
        write,
    )


def test_openai_cached_above_prompt_is_refused() -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage.from_openai(10, 5, cached_tokens=11)
    assert caught.value.field == "cached_tokens"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_tokens": -1}, "input_tokens"),
        ({"output_tokens": MAX_TOKENS_PER_EVENT + 1}, "output_tokens"),
        ({"cache_read_tokens": 1.5}, "cache_read_tokens"),
        ({"output_tokens": 3, "reasoning_tokens": 4}, "reasoning_tokens"),
        ({"reasoning_tokens": True}, "reasoning_tokens"),
        ({"input_tokens": 5, "cache_write_tokens": -1}, "cache_write_tokens"),
        ({"input_tokens": -1, "output_tokens": "1"}, "input_tokens"),  # the first one named
    ],
)
def test_hostile_counts_name_their_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_openai_cache_writes_are_taken_out_of_the_prompt_once() -> None:
    usage = Usage.from_openai(
        prompt_tokens=1000, completion_tokens=10, cached_tokens=300, cache_write_tokens=200
    )
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        500,
        300,
        200,
    )
    assert usage.prompt_tokens == 1000
    with pytest.raises(InvalidUsage):
        Usage.from_openai(
            prompt_tokens=100, completion_tokens=0, cached_tokens=60, cache_write_tokens=50
        )
