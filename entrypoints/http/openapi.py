"""OpenAPI documentation for bodies that handlers decode themselves.

`POST /v1/events` reads its raw body (to validate event by event), so Litestar
cannot see its type; the operation below documents the msgspec struct anyway,
inlined, because Litestar rebuilds the components section from its own registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

from entrypoints.http import events_in

DOCUMENTED_BODIES: dict[str, Any] = {"EventBatchIn": events_in.EventBatchIn}


def inline_schema(struct_type: Any) -> dict[str, Any]:
    """msgspec's JSON schema with every `$ref` replaced by its definition (no recursion here)."""
    schema = msgspec.json.schema(struct_type)
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


@dataclass
class JsonBodyOperation(Operation):
    body_schema: ClassVar[str] = ""

    def __post_init__(self) -> None:
        schema = inline_schema(DOCUMENTED_BODIES[self.body_schema])
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=schema)},  # type: ignore[arg-type]
            required=True,
            description="JSON, optionally with Content-Encoding: gzip",
        )

    @classmethod
    def for_schema(cls, name: str) -> type[JsonBodyOperation]:
        return type(f"{name}Operation", (cls,), {"body_schema": name})
