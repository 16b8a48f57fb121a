"""Steps for features/caps.feature. Sync steps drive the async use cases through one runner."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from pytest_bdd import given, parsers, scenarios, then, when

from application.manage_caps import CapDraft, CapProgress
from application.ports import AlertQuery
from application.reservations import CheckRequest, CheckResult
from domain.attribution import Attribution
from domain.caps import CapScope, Enforcement
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.usage import Usage
from tests.support.harness import Harness

scenarios("caps.feature")

_ids = itertools.count()


class World:
    def __init__(self) -> None:
        self.cap: CapProgress | None = None
        self.last: CheckResult | None = None
        self.results: list[CheckResult] = []


def _instant(text: str) -> datetime:
    return datetime.strptime(text.removesuffix(" UTC"), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _dollars(text: str) -> Money:
    return Money.parse(text.removeprefix("$"))


def _none(text: str) -> str | None:
    return None if text == "-" else text


def _spend(
    harness: Harness,
    runner: asyncio.Runner,
    amount: Money,
    attribution: Attribution,
    at: datetime | None = None,
) -> None:
    event = SpendEvent(
        tenant_id="default",
        event_id=f"bdd-{next(_ids)}",
        occurred_at=at or harness.clock.now(),
        provider=attribution.provider,
        model=attribution.model,
        usage=Usage(),
        agent=attribution.agent,
        customer_id=attribution.customer_id,
        cost=amount,
    )
    runner.run(harness.record.record_priced(harness.principal(), [event]))


def _ask(
    harness: Harness, runner: asyncio.Runner, amount: Money, attribution: Attribution
) -> CheckResult:
    return runner.run(
        harness.check(harness.principal(), CheckRequest(attribution, estimated_cost=amount))
    )


ANY_CALL = Attribution("openai", "gpt-4o")


@given(parsers.parse("the time is {start}"), target_fixture="world")
def _start(harness: Harness, start: str) -> World:
    harness.clock.set(_instant(start))
    return World()


def _create(
    harness: Harness,
    runner: asyncio.Runner,
    world: World,
    enforcement: Enforcement,
    amount: str,
    period: str,
    scope: str,
    value: str,
    tz: str = "UTC",
    thresholds: tuple[int, ...] | None = None,
) -> None:
    draft = CapDraft(
        name=f"{scope} cap",
        scope=CapScope(scope),
        period=Period(period),
        limit=_dollars(amount),
        enforcement=enforcement,
        scope_value=_none(value),
        timezone=tz,
        thresholds=thresholds,
    )
    world.cap = runner.run(harness.caps.create(harness.principal(), draft))


@given(parsers.parse('a block cap of {amount} per {period} window on {scope} "{value}" in "{tz}"'))
def _block_cap_tz(
    harness: Harness,
    runner: asyncio.Runner,
    world: World,
    amount: str,
    period: str,
    scope: str,
    value: str,
    tz: str,
) -> None:
    _create(harness, runner, world, Enforcement.BLOCK, amount, period, scope, value, tz)


@given(parsers.parse('a block cap of {amount} per {period} window on {scope} "{value}"'))
def _block_cap(
    harness: Harness,
    runner: asyncio.Runner,
    world: World,
    amount: str,
    period: str,
    scope: str,
    value: str,
) -> None:
    _create(harness, runner, world, Enforcement.BLOCK, amount, period, scope, value)


@given(
    parsers.parse(
        'an alert cap of {amount} per {period} window on {scope} "{value}" with thresholds {thresholds}'
    )
)
def _alert_cap(
    harness: Harness,
    runner: asyncio.Runner,
    world: World,
    amount: str,
    period: str,
    scope: str,
    value: str,
    thresholds: str,
) -> None:
    parsed = tuple(int(t) for t in thresholds.split(","))
    _create(
        harness, runner, world, Enforcement.ALERT, amount, period, scope, value, thresholds=parsed
    )


@given(parsers.parse('customer "{customer}" has spent {amount} this month'))
def _customer_spent(harness: Harness, runner: asyncio.Runner, customer: str, amount: str) -> None:
    _spend(harness, runner, _dollars(amount), Attribution("openai", "gpt-4o", None, customer))


@given(
    parsers.parse(
        '{amount} was spent by provider "{provider}" model "{model}" agent "{agent}" customer "{customer}"'
    )
)
def _spent_by(
    harness: Harness,
    runner: asyncio.Runner,
    amount: str,
    provider: str,
    model: str,
    agent: str,
    customer: str,
) -> None:
    _spend(
        harness,
        runner,
        _dollars(amount),
        Attribution(provider, model, _none(agent), _none(customer)),
    )


@given(parsers.parse("{amount} was spent just before the window that starts at {start}"))
def _spent_before(harness: Harness, runner: asyncio.Runner, amount: str, start: str) -> None:
    harness.clock.set(_instant(start) - timedelta(seconds=1))
    _spend(harness, runner, _dollars(amount), ANY_CALL)


@given(parsers.parse("{amount} was spent at {instant}"))
def _spent_at(harness: Harness, runner: asyncio.Runner, amount: str, instant: str) -> None:
    harness.clock.set(_instant(instant))
    _spend(harness, runner, _dollars(amount), ANY_CALL)


@when(parsers.parse("the time is {instant}"))
def _time_is(harness: Harness, instant: str) -> None:
    harness.clock.set(_instant(instant))


@when(parsers.parse('customer "{customer}" asks to make a call estimated at {amount}'))
def _customer_asks(
    harness: Harness, runner: asyncio.Runner, world: World, customer: str, amount: str
) -> None:
    world.last = _ask(
        harness, runner, _dollars(amount), Attribution("openai", "gpt-4o", None, customer)
    )


@when(
    parsers.parse(
        'provider "{provider}" model "{model}" agent "{agent}" customer "{customer}" asks to spend {amount}'
    )
)
def _attributed_asks(
    harness: Harness,
    runner: asyncio.Runner,
    world: World,
    provider: str,
    model: str,
    agent: str,
    customer: str,
    amount: str,
) -> None:
    world.last = _ask(
        harness,
        runner,
        _dollars(amount),
        Attribution(provider, model, _none(agent), _none(customer)),
    )


@when(parsers.parse("{amount} is spent"))
def _is_spent(harness: Harness, runner: asyncio.Runner, amount: str) -> None:
    _spend(harness, runner, _dollars(amount), ANY_CALL)


@when("the monitor runs twice")
def _monitor_twice(harness: Harness, runner: asyncio.Runner) -> None:
    runner.run(harness.monitor())
    runner.run(harness.monitor())


@when(parsers.parse("{count:d} calls estimated at {amount} each ask at the same time"))
def _concurrent(
    harness: Harness, runner: asyncio.Runner, world: World, count: int, amount: str
) -> None:
    request = CheckRequest(ANY_CALL, estimated_cost=_dollars(amount))

    async def ask_all() -> list[CheckResult]:
        return list(
            await asyncio.gather(
                *(harness.check(harness.principal(), request) for _ in range(count))
            )
        )

    world.results = runner.run(ask_all())


def _allowed(world: World) -> list[CheckResult]:
    return [r for r in world.results if r.allowed and r.reservation is not None]


@when("every allowed call settles at its estimate")
def _settle_all(harness: Harness, runner: asyncio.Runner, world: World) -> None:
    for result in _allowed(world):
        assert result.reservation is not None
        runner.run(harness.finish.settle(harness.principal(), result.reservation.id, result.amount))


@when("5 percent of them fail and release, and 5 percent are abandoned")
def _fail_some(harness: Harness, runner: asyncio.Runner, world: World) -> None:
    allowed = _allowed(world)
    share = len(allowed) // 20
    for result in allowed[:share]:
        assert result.reservation is not None
        runner.run(harness.finish.release(harness.principal(), result.reservation.id))
    world.results = allowed[2 * share :]


@when("the abandoned reservations expire")
def _expire(harness: Harness, runner: asyncio.Runner) -> None:
    harness.clock.advance(seconds=301)
    runner.run(harness.sweep())


@when("the rest settle at their estimate")
def _settle_rest(harness: Harness, runner: asyncio.Runner, world: World) -> None:
    _settle_all(harness, runner, world)


@then("the call is allowed")
def _is_allowed(world: World) -> None:
    assert world.last is not None and world.last.allowed


@then("the call is refused")
def _is_refused(world: World) -> None:
    assert world.last is not None and not world.last.allowed


@then(parsers.parse("the call is {verdict}"))
def _verdict(world: World, verdict: str) -> None:
    assert world.last is not None
    assert world.last.allowed is (verdict == "allowed"), world.last


@then("the call is refused by that cap")
def _refused_by_cap(world: World) -> None:
    assert world.last is not None and not world.last.allowed
    assert world.cap is not None and world.last.blocking_cap is not None
    assert world.last.blocking_cap.id == world.cap.cap.id


@then(parsers.parse('customer "{customer}" may still make a call estimated at {amount}'))
def _other_customer(harness: Harness, runner: asyncio.Runner, customer: str, amount: str) -> None:
    assert _ask(
        harness, runner, _dollars(amount), Attribution("openai", "gpt-4o", None, customer)
    ).allowed


@then(parsers.parse("a call estimated at {amount} is allowed"))
def _call_allowed(harness: Harness, runner: asyncio.Runner, amount: str) -> None:
    result = _ask(harness, runner, _dollars(amount), ANY_CALL)
    assert result.allowed, result


def _progress(harness: Harness, runner: asyncio.Runner, world: World) -> CapProgress:
    assert world.cap is not None
    return runner.run(harness.caps.get(harness.principal(), world.cap.cap.id))


@then(parsers.parse("the cap shows {amount} spent"))
def _shows_spent(harness: Harness, runner: asyncio.Runner, world: World, amount: str) -> None:
    assert _progress(harness, runner, world).status.spent == _dollars(amount)


@then(parsers.parse("the cap shows {spent} spent and {reserved} reserved"))
def _shows_spent_reserved(
    harness: Harness, runner: asyncio.Runner, world: World, spent: str, reserved: str
) -> None:
    status = _progress(harness, runner, world).status
    assert (status.spent, status.reserved) == (_dollars(spent), _dollars(reserved))


@then(parsers.parse("exactly {count:d} are allowed"))
def _exactly_allowed(world: World, count: int) -> None:
    assert sum(r.allowed for r in world.results) == count


@then(parsers.parse("exactly these alerts exist: {thresholds}"))
def _alerts_exist(harness: Harness, runner: asyncio.Runner, thresholds: str) -> None:
    async def read() -> list[int]:
        async with harness.uow_factory("default") as uow:
            return sorted(a.threshold for a in await uow.alerts.list("default", AlertQuery()))

    assert runner.run(read()) == [int(t) for t in thresholds.split(",")]
