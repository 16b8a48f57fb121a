"""Key names. Every key of one tenant carries the tenant as its Redis Cluster hash tag
(`llmo:{tenant}:...`), so each Lua script touches a single slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.reservations import CounterKey

DEFAULT_PREFIX = "llmo"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class KeySpace:
    """All key names under one prefix; tests take a prefix of their own on a shared server."""

    prefix: str = DEFAULT_PREFIX

    def tag(self, tenant_id: str) -> str:
        """The tenant as a hash tag; braces are escaped so no tenant id can split the tag."""
        escaped = tenant_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        return f"{self.prefix}:{{{escaped}}}:"

    def spent(self, key: CounterKey) -> str:
        return f"{self.tag(key.tenant_id)}spent:{key.text()}"

    def blocked(self, key: CounterKey) -> str:
        return f"{self.tag(key.tenant_id)}blocked:{key.text()}"

    def reserved(self, key: CounterKey) -> str:
        return f"{self.tag(key.tenant_id)}reserved:{key.text()}"

    def reservation(self, tenant_id: str, reservation_id: str) -> str:
        return self.reservation_prefix(tenant_id) + reservation_id

    def reservation_prefix(self, tenant_id: str) -> str:
        """Lua appends a reservation id to this to reach the reservation's hash."""
        return f"{self.tag(tenant_id)}rsv:"

    def tenant_expiry_index(self, tenant_id: str) -> str:
        return f"{self.tag(tenant_id)}rsv-expiry"

    @property
    def reserving_tenants(self) -> str:
        """The sweeper's way in: every tenant that has made a reservation. The one key
        without a tenant tag, so no tenant's script ever touches it."""
        return f"{self.prefix}:reservations:tenants"


def to_micros(instant: datetime) -> int:
    """Exact epoch microseconds; as a sorted-set score it stays below 2**53, so exact too."""
    return (instant - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return _EPOCH + micros * _MICROSECOND
