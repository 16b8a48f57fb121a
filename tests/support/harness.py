"""Every use case wired over one adapter set, for application tests and BDD scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.pricing.catalog_file import load_builtin_catalog
from adapters.system import RandomIds
from application.api_keys import ApiKeys
from application.cap_alerts import CapAlerts
from application.cap_counters import CapCounters
from application.dispatch_alerts import DispatchAlerts
from application.maintenance import MonitorCaps, ReconcileCounters, SweepReservations
from application.manage_caps import CapProgressReader, ManageCaps
from application.ports import OutgoingEmail, SpendCounters, UnitOfWorkFactory
from application.record_spend import RecordSpend
from application.reservations import CheckAndReserve, FailPolicy, FinishReservation
from application.spend_reports import SpendReportsService
from domain.access import Principal
from domain.alerts import Alert
from domain.pricing import PriceCatalog
from domain.tenants import KeyKind
from tests.support.clock import MutableClock


class RecordingMailer:
    """A mailer that keeps what it was asked to send, and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.failures_left = 0

    async def send(self, email: OutgoingEmail) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("mail server down")
        self.sent.append(email)


class PlainRenderer:
    def render(self, alert: Alert, context: Any) -> OutgoingEmail:
        return OutgoingEmail(
            to=alert.recipients,
            subject=f"{alert.cap_name}: {alert.threshold}% ({alert.kind.value})",
            text=f"spent {alert.spent.format()} of {alert.limit.format()}",
        )


@dataclass
class Harness:
    uow_factory: UnitOfWorkFactory
    counter_store: SpendCounters
    clock: MutableClock
    catalog: PriceCatalog = field(default_factory=load_builtin_catalog)
    fail_policy: FailPolicy = FailPolicy.OPEN

    def __post_init__(self) -> None:
        ids = RandomIds()
        self.ids = ids
        self.counters = CapCounters(self.counter_store, self.uow_factory)
        self.cap_alerts = CapAlerts(self.uow_factory, self.counters, ids)
        self.record = RecordSpend(
            self.uow_factory, self.catalog, self.counters, self.cap_alerts, self.clock
        )
        self.check = CheckAndReserve(
            self.uow_factory, self.catalog, self.counters, ids, self.clock, self.fail_policy
        )
        self.finish = FinishReservation(self.counters, self.record, self.clock)
        self.caps = ManageCaps(
            self.uow_factory, CapProgressReader(self.counters, self.clock), ids, self.clock
        )
        self.reports = SpendReportsService(self.uow_factory)
        self.api_keys = ApiKeys(self.uow_factory, ids, self.clock)
        self.mailer = RecordingMailer()
        self.dispatch = DispatchAlerts(self.uow_factory, self.mailer, PlainRenderer(), self.clock)
        self.monitor = MonitorCaps(self.uow_factory, self.cap_alerts, self.clock)
        self.reconcile = ReconcileCounters(self.uow_factory, self.counters, self.clock)
        self.sweep = SweepReservations(self.counters, self.clock)

    def principal(
        self, tenant_id: str = "default", kind: KeyKind = KeyKind.MANAGEMENT
    ) -> Principal:
        return Principal.for_key(tenant_id, f"key_{tenant_id}", kind)
