from __future__ import annotations

from types import SimpleNamespace

from llmobserve._usage import (
    Usage,
    from_anthropic,
    from_openai_chat,
    from_openai_embedding,
    from_openai_responses,
    merge_anthropic_delta,
)


def test_openai_cached_prompt_tokens_are_split_off_the_input() -> None:
    usage = from_openai_chat(
        {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 200},
            "completion_tokens_details": {"reasoning_tokens": 50},
        }
    )
    assert usage == Usage(
        input_tokens=1000, output_tokens=300, cache_read_tokens=200, reasoning_tokens=50
    )


def test_openai_cache_writes_inside_the_prompt_are_billed_once_as_writes() -> None:
    chat = from_openai_chat(
        {
            "prompt_tokens": 1200,
            "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 700},
        }
    )
    responses = from_openai_responses(
        {
            "input_tokens": 1200,
            "input_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 700},
            "output_tokens": 10,
        }
    )
    expected = Usage(
        input_tokens=300, output_tokens=10, cache_read_tokens=200, cache_write_tokens=700
    )
    assert chat == expected and responses == expected


def test_openai_usage_without_details_is_all_plain_input() -> None:
    usage = from_openai_chat(
        SimpleNamespace(
            prompt_tokens=10,
            completion_tokens=5,
            prompt_tokens_details=None,
            completion_tokens_details=None,
        )
    )
    assert usage == Usage(input_tokens=10, output_tokens=5)


def test_responses_usage_follows_the_same_rule() -> None:
    usage = from_openai_responses(
        {
            "input_tokens": 500,
            "input_tokens_details": {"cached_tokens": 100},
            "output_tokens": 40,
            "output_tokens_details": {"reasoning_tokens": 30},
        }
    )
    assert usage == Usage(
        input_tokens=400, output_tokens=40, cache_read_tokens=100, reasoning_tokens=30
    )


def test_embedding_usage_is_input_only() -> None:
    assert from_openai_embedding({"prompt_tokens": 8, "total_tokens": 8}) == Usage(input_tokens=8)


def test_anthropic_cache_tokens_are_not_added_to_input_again() -> None:
    # The double-billing bug: input_tokens already excludes both cache counts.
    usage = from_anthropic(
        {
            "input_tokens": 20,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 500,
            "output_tokens": 80,
        }
    )
    assert usage == Usage(
        input_tokens=20, output_tokens=80, cache_read_tokens=1000, cache_write_tokens=500
    )
    wire = usage.to_wire()
    assert wire["input_tokens"] + wire["cache_read_tokens"] + wire["cache_write_tokens"] == 1520


def test_anthropic_message_delta_counts_are_cumulative_and_nulls_keep_earlier_values() -> None:
    start = from_anthropic(
        {
            "input_tokens": 20,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 0,
            "output_tokens": 1,
        }
    )
    merged = merge_anthropic_delta(
        start, {"output_tokens": 80, "input_tokens": None, "cache_read_input_tokens": None}
    )
    assert merged == Usage(input_tokens=20, output_tokens=80, cache_read_tokens=1000)
    again = merge_anthropic_delta(merged, {"output_tokens": 95})
    assert again is not None and again.output_tokens == 95


def test_malformed_usage_never_raises_and_counts_as_zero() -> None:
    usage = from_openai_chat(
        {
            "prompt_tokens": "many",
            "completion_tokens": -3,
            "prompt_tokens_details": {"cached_tokens": 10**12},
        }
    )
    assert usage == Usage()
    assert from_anthropic(None) is None
    assert from_anthropic({}) == Usage()


def test_wire_counts_are_clamped_and_reasoning_never_exceeds_output() -> None:
    wire = Usage(input_tokens=10**10, output_tokens=5, reasoning_tokens=9).to_wire()
    assert wire["input_tokens"] == 100_000_000
    assert wire["reasoning_tokens"] == 5
