"""The dashboard's Jinja environment and the one way a page becomes an HTML response.

The environment is the dashboard's own (autoescape on for every template), so the
pages need nothing from the app's template configuration and escape every customer
id, agent name and tag they print.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Response
from litestar.enums import MediaType

from entrypoints.dashboard import formatting

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/static/dashboard"

# Pages hold session-bound tokens and tenant data: never cached, never framed.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _static_url(name: str) -> str:
    version = _static_version(name)
    return f"{STATIC_PATH}/{name}?v={version}"


@lru_cache(maxsize=16)
def _static_version(name: str) -> str:
    """Cache busting by file size and modification time: a deploy changes the URL."""
    path = STATIC / name
    try:
        stat = path.stat()
    except OSError:
        return "0"
    return f"{stat.st_size:x}{int(stat.st_mtime):x}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        usd=formatting.usd,
        usd_exact=formatting.usd_exact,
        count=formatting.count,
        compact=formatting.compact,
        permille=formatting.permille_text,
        when=formatting.when,
        day=formatting.day,
        # Path segments (customer ids) are quoted completely, "/" included.
        path_segment=lambda value: quote(str(value), safe=""),
    )
    env.globals.update(static=_static_url)
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def page(
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The rendered page; cookies the context asks for (`response_cookies`) are set on it."""
    return Response(
        render(template, context),
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=list(context.get("response_cookies") or ()),
    )
