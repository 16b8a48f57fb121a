"""Database URLs as users write them, turned into the async drivers we run on."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

POSTGRES_DRIVER = "postgresql+asyncpg"
SQLITE_DRIVER = "sqlite+aiosqlite"

_SCHEMES = {
    "postgres": POSTGRES_DRIVER,
    "postgresql": POSTGRES_DRIVER,
    "postgresql+asyncpg": POSTGRES_DRIVER,
    "sqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
}


class UnsupportedDatabaseUrl(ValueError):
    pass


def normalise_url(url: str) -> str:
    """`postgres://`, `postgresql://` and `sqlite:///path` with their async drivers added.

    libpq's `sslmode=` becomes asyncpg's `ssl=`, since asyncpg takes no `sslmode` argument.
    """
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise UnsupportedDatabaseUrl(f"not a database URL: {url!r}")
    driver = _SCHEMES.get(scheme.lower())
    if driver is None:
        raise UnsupportedDatabaseUrl(
            f"unsupported database {scheme!r}: use postgresql://... or sqlite:///path"
        )
    normalised = f"{driver}://{rest}"
    if driver == POSTGRES_DRIVER:
        normalised = _libpq_ssl_to_asyncpg(normalised)
    return normalised


def is_postgres(url: str) -> bool:
    return normalise_url(url).startswith(POSTGRES_DRIVER)


def _libpq_ssl_to_asyncpg(url: str) -> str:
    parts = urlsplit(url)
    query = [("ssl" if key == "sslmode" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database reached as another role (tests and tools use it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    credentials = quote(user, safe="")
    if password is not None:
        credentials += ":" + quote(password, safe="")
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}{port}"))
