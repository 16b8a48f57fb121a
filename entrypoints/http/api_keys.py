"""Management of API keys: the secret is in the creation response and nowhere else."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.api_keys import ApiKeys
from domain.access import Principal
from domain.tenants import ApiKey, KeyKind


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: KeyKind = KeyKind.INGEST


class ApiKeyOut(msgspec.Struct):
    id: str
    name: str
    kind: KeyKind
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str


class ApiKeyList(msgspec.Struct):
    api_keys: list[ApiKeyOut]


def _fields(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "kind": key.kind,
        "prefix": key.display_prefix,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@post("/v1/api-keys", tags=["api keys"], summary="Create a key (the secret is shown once)")
async def create_api_key(
    data: JSONBody[ApiKeyIn],
    principal: NamedDependency[Principal],
    api_keys: NamedDependency[ApiKeys],
) -> NewApiKeyOut:
    created = await api_keys.create(principal, data.name, data.kind)
    return NewApiKeyOut(**_fields(created.key), key=created.secret)  # type: ignore[arg-type]


@get("/v1/api-keys", tags=["api keys"], summary="List keys by prefix")
async def list_api_keys(
    principal: NamedDependency[Principal], api_keys: NamedDependency[ApiKeys]
) -> ApiKeyList:
    keys = await api_keys.list(principal)
    return ApiKeyList([ApiKeyOut(**_fields(key)) for key in keys])  # type: ignore[arg-type]


@delete("/v1/api-keys/{key_id:str}", tags=["api keys"], summary="Revoke a key for good")
async def revoke_api_key(
    key_id: FromPath[str], principal: NamedDependency[Principal], api_keys: NamedDependency[ApiKeys]
) -> None:
    await api_keys.revoke(principal, key_id)
