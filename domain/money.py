"""Money as an integer count of nano-USD (1e-9 USD).

Floats never enter: a float cannot say 0.1 exactly, and a spend total summed
over millions of events would drift. Decimal strings are the only text form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NANOS_PER_USD = 1_000_000_000
_DECIMAL_USD = re.compile(r"^(-)?(\d{1,12})(?:\.(\d{1,9}))?$")


class InvalidMoney(ValueError):
    """Text or a number that does not denote an exact amount of US dollars."""


@dataclass(frozen=True, slots=True, order=True)
class Money:
    nanos: int

    def __post_init__(self) -> None:
        # bool is an int subclass; True dollars is a bug, not an amount.
        if type(self.nanos) is not int:
            raise InvalidMoney(
                f"money is an integer count of nano-USD, not {type(self.nanos).__name__}"
            )

    @classmethod
    def zero(cls) -> Money:
        return _ZERO

    @classmethod
    def parse(cls, text: Any) -> Money:
        """Parse a decimal string of US dollars, such as "0.000150" or "12"."""
        if not isinstance(text, str):
            raise InvalidMoney(f"money must be a decimal string, not {type(text).__name__}")
        match = _DECIMAL_USD.match(text.strip())
        if match is None:
            raise InvalidMoney(f"{text!r} is not a decimal amount with at most 9 decimals")
        sign, whole, fraction = match.groups()
        nanos = int(whole) * NANOS_PER_USD + int((fraction or "").ljust(9, "0"))
        return cls(-nanos if sign else nanos)

    @classmethod
    def usd(cls, whole: int) -> Money:
        return cls(whole * NANOS_PER_USD)

    def format(self, min_decimals: int = 6) -> str:
        """Decimal string with at least `min_decimals` decimals and no precision lost."""
        sign = "-" if self.nanos < 0 else ""
        whole, fraction = divmod(abs(self.nanos), NANOS_PER_USD)
        digits = f"{fraction:09d}".rstrip("0").ljust(min_decimals, "0")
        return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"

    def __str__(self) -> str:
        return self.format()

    def __add__(self, other: Money) -> Money:
        return Money(self.nanos + other.nanos)

    def __sub__(self, other: Money) -> Money:
        return Money(self.nanos - other.nanos)

    def __neg__(self) -> Money:
        return Money(-self.nanos)

    def __bool__(self) -> bool:
        return self.nanos != 0

    def is_positive(self) -> bool:
        return self.nanos > 0

    def max(self, other: Money) -> Money:
        return self if self.nanos >= other.nanos else other


_ZERO = Money(0)


def divide_rounding_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded to nearest, halves away from zero.

    The one rounding rule of the product: a cost is computed exactly as a
    fraction and rounded once, here, to the nano-USD.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient
