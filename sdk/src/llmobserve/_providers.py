"""Which provider a client really talks to, read from its base URL.

Many providers expose OpenAI-compatible endpoints, so the client library alone does
not say who bills the call: the host does. Unknown hosts (a local model server, a
corporate gateway) keep the library's own provider; ``observe(base_url_providers=...)``
adds or overrides host mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

KNOWN_HOSTS: Mapping[str, str] = {
    "api.openai.com": "openai",
    "openai.azure.com": "azure",
    "cognitiveservices.azure.com": "azure",
    "services.ai.azure.com": "azure",
    "api.anthropic.com": "anthropic",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "openrouter.ai": "openrouter",
    "api.mistral.ai": "mistral",
    "api.x.ai": "xai",
    "api.fireworks.ai": "fireworks",
    "api.perplexity.ai": "perplexity",
    "api.cerebras.ai": "cerebras",
    "generativelanguage.googleapis.com": "google",
    "api.deepinfra.com": "deepinfra",
    "amazonaws.com": "bedrock",
    "aiplatform.googleapis.com": "vertex",
    "api.moonshot.ai": "moonshot",
    "dashscope.aliyuncs.com": "alibaba",
    "dashscope-intl.aliyuncs.com": "alibaba",
}


def host_of(base_url: Any) -> str:
    """Return the lower-case host (with port when one is given) of a URL-like value."""
    try:
        parts = urlsplit(str(base_url))
        host = (parts.hostname or "").lower()
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""


def provider_for_host(host: str, default: str, overrides: Mapping[str, str] | None = None) -> str:
    """Map a host to a provider name: overrides first, then known hosts and their subdomains."""
    bare = host.split(":", 1)[0]
    for table in (overrides or {}, KNOWN_HOSTS):
        for candidate in (host, bare):
            if candidate in table:
                return table[candidate]
        for suffix, provider in table.items():
            if bare.endswith("." + suffix):
                return provider
    return default


class ProviderResolver:
    """Caches the provider of each base URL, since the lookup runs on every call.

    Clients hold their base URL as an object that lives as long as they do, so the
    cache is keyed by that object's identity (holding it, so the id can't be reused)
    and a hit costs no URL formatting or parsing.
    """

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self._cache: dict[tuple[int, str], tuple[Any, str]] = {}

    def resolve(self, base_url: Any, default: str) -> str:
        """Return the provider billing calls sent to ``base_url``."""
        key = (id(base_url), default)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is base_url:
            return hit[1]
        provider = provider_for_host(host_of(base_url), default, self._overrides)
        if len(self._cache) >= 1024:
            self._cache.clear()
        self._cache[key] = (base_url, provider)
        return provider
