"""UUID version 7 (RFC 9562, section 5.7), which the standard library lacks before 3.14."""

from __future__ import annotations

import os
import uuid

_VERSION_7 = 0x7
_VARIANT_RFC = 0b10


def uuid7(timestamp_ns: int) -> uuid.UUID:
    """Return ``uuid7_str(timestamp_ns)`` as a ``uuid.UUID``."""
    return uuid.UUID(uuid7_str(timestamp_ns))


def uuid7_str(timestamp_ns: int) -> str:
    """Return a UUIDv7 whose 48-bit time prefix is ``timestamp_ns`` in Unix milliseconds.

    The 12 ``rand_a`` bits carry the sub-millisecond fraction (RFC 9562 method 3), so
    ids made in one process sort by time even within a millisecond; the 62 ``rand_b``
    bits are random, which is what makes the id unique.
    """
    unix_ms, sub_ms_ns = divmod(timestamp_ns, 1_000_000)
    rand_a = (sub_ms_ns * 4096) // 1_000_000
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= _VERSION_7 << 76
    value |= rand_a << 64
    value |= _VARIANT_RFC << 62
    value |= rand_b
    # Formatting the hex directly is several times cheaper than uuid.UUID(int=...),
    # and the exporter makes one id per event.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
