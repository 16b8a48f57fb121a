from __future__ import annotations

import subprocess
import sys
import textwrap

import llmobserve
import openai
import pytest

from .fake_collector import FakeCollector
from .fake_provider import FakeProvider

MESSAGES = [{"role": "user", "content": "hi"}]


def test_configuration_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, collector: FakeCollector, openai_client: openai.OpenAI
) -> None:
    monkeypatch.setenv("LLMOBSERVE_COLLECTOR_URL", collector.url)
    monkeypatch.setenv("LLMOBSERVE_API_KEY", "llmo_sk_from_env")
    llmobserve.observe()
    try:
        openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert llmobserve.flush(5)
    finally:
        llmobserve.shutdown(1)
    assert collector.batches[0].headers["authorization"] == "Bearer llmo_sk_from_env"
    assert len(collector.events) == 1


def test_libraries_imported_after_observe_are_instrumented(
    collector: FakeCollector, provider: FakeProvider
) -> None:
    script = textwrap.dedent(f"""
        import sys
        import llmobserve
        llmobserve.observe(collector_url={collector.url!r}, api_key="llmo_sk_x")
        assert "openai" not in sys.modules and "anthropic" not in sys.modules
        import anthropic, openai
        openai.OpenAI(api_key="k", base_url={provider.url + "/v1"!r}, max_retries=0) \\
            .chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}])
        anthropic.Anthropic(api_key="k", base_url={provider.url!r}, max_retries=0) \\
            .messages.create(model="claude-sonnet-4-6", max_tokens=8,
                             messages=[{{"role": "user", "content": "hi"}}])
        assert llmobserve.flush(5)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert sorted(e["provider"] for e in collector.events) == ["anthropic", "openai"]


def test_missing_configuration_warns_once_and_records_nothing(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    openai_client: openai.OpenAI,
) -> None:
    monkeypatch.delenv("LLMOBSERVE_COLLECTOR_URL", raising=False)
    monkeypatch.delenv("LLMOBSERVE_API_KEY", raising=False)
    with caplog.at_level("WARNING", logger="llmobserve"):
        llmobserve.observe()
        try:
            for _ in range(2):
                openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        finally:
            llmobserve.shutdown(1)
    assert len([r for r in caplog.records if "not recorded" in r.getMessage()]) == 1
    assert llmobserve.stats()["sent"] == 0
