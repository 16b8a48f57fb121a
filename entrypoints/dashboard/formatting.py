"""How numbers look on the dashboard: money, counts, percentages, times.

Money stays integer nano-USD down to the last character: rounding for display is
integer arithmetic here, and the exact amount is always one hover away (`usd_exact`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.money import NANOS_PER_USD, Money, divide_rounding_half_up

_CENT = NANOS_PER_USD // 100


def usd(amount: Money | None) -> str:
    """ "$1,234.56" for amounts of a cent or more; small amounts keep their significant digits."""
    if amount is None:
        return "—"
    nanos = amount.nanos
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos == 0:
        return "$0.00"
    if nanos >= _CENT:
        cents = divide_rounding_half_up(nanos, _CENT)
        whole, fraction = divmod(cents, 100)
        return f"{sign}${whole:,}.{fraction:02d}"
    # Below a cent: up to 6 decimals, so $0.000150 reads as itself, never as $0.00.
    micros = divide_rounding_half_up(nanos, 1000)
    if micros == 0:
        return f"{sign}<$0.000001"
    return f"{sign}$0.{micros:06d}".rstrip("0")


def usd_exact(amount: Money | None) -> str:
    return "—" if amount is None else f"${amount.format()}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def compact(value: int) -> str:
    """1.2k, 3.4M: for axis labels and dense cells."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            tenths = divide_rounding_half_up(value * 10, limit)
            whole, fraction = divmod(abs(tenths), 10)
            sign = "-" if value < 0 else ""
            return (
                f"{sign}{whole}{suffix}" if fraction == 0 else f"{sign}{whole}.{fraction}{suffix}"
            )
    return str(value)


def share_permille(part: Money, whole: Money) -> int | None:
    """part / whole in tenths of a percent, rounded; None when the whole is zero."""
    if whole.nanos <= 0:
        return None
    return divide_rounding_half_up(part.nanos * 1000, whole.nanos)


def permille_text(value: int | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else "-" if value < 0 else ""
    whole, tenth = divmod(abs(value), 10)
    return f"{sign}{whole}.{tenth}%"


def change_permille(current: Money, previous: Money) -> int | None:
    """Change from previous to current in tenths of a percent; None when previous is zero."""
    if previous.nanos <= 0:
        return None
    return divide_rounding_half_up((current.nanos - previous.nanos) * 1000, previous.nanos)


def when(instant: datetime | None) -> str:
    if instant is None:
        return "—"
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(instant: datetime | None) -> str:
    return "—" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%d")


def relative(instant: datetime | None, now: datetime) -> str:
    """ "in 3 h", "5 min ago": for reset times and last use."""
    if instant is None:
        return "never"
    seconds = int((instant - now).total_seconds())
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 60:
        text = "moments"
    elif seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 86400 * 2:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // 86400} days"
    if text == "moments":
        return "in moments" if future else "just now"
    return f"in {text}" if future else f"{text} ago"
