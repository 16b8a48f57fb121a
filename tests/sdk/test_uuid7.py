from __future__ import annotations

import time
import uuid

from llmobserve._events import rfc3339
from llmobserve._uuid7 import uuid7


def test_uuid7_has_version_variant_and_millisecond_timestamp() -> None:
    now_ns = 1_764_151_200_123_456_789
    value = uuid7(now_ns)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == 1_764_151_200_123


def test_uuid7_sorts_by_time_and_is_unique() -> None:
    base = time.time_ns()
    ids = [uuid7(base + i * 300_000) for i in range(2000)]
    assert ids == sorted(ids)
    assert len({uuid7(base) for _ in range(10_000)}) == 10_000


def test_rfc3339_is_utc_with_milliseconds() -> None:
    assert rfc3339(1_764_151_200_123_456_789) == "2025-11-26T10:00:00.123Z"
