"""A cap as its progress bar shows it: spent solid, reserved hatched after it, the reset time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.manage_caps import CapProgress
from domain.caps import Cap
from entrypoints.dashboard.formatting import relative, usd, when

WARN_PERMILLE = 800


def _permille(part: int, whole: int) -> int:
    return max(0, min(1000, part * 1000 // whole)) if whole > 0 else 0


def _width(permille: int) -> str:
    return f"{permille // 10}.{permille % 10}"


@dataclass(frozen=True, slots=True)
class CapRow:
    """A cap as its progress bar shows it: spent solid, reserved hatched after it."""

    item: CapProgress
    now: datetime

    @property
    def cap(self) -> Cap:
        return self.item.cap

    @property
    def spent_permille(self) -> int:
        return _permille(self.item.status.spent.nanos, self.item.status.limit.nanos)

    @property
    def reserved_permille(self) -> int:
        reserved = _permille(self.item.status.reserved.nanos, self.item.status.limit.nanos)
        return min(reserved, 1000 - self.spent_permille)

    @property
    def level(self) -> str:
        status = self.item.status
        if status.exhausted:
            return "over"
        return "warn" if self.spent_permille >= WARN_PERMILLE else "ok"

    def live(self) -> dict[str, object]:
        status = self.item.status
        return {
            "id": self.cap.id,
            "spent_width": _width(self.spent_permille),
            "reserved_width": _width(self.reserved_permille),
            "level": self.level,
            "percent": status.percent_text(),
            "spent_text": usd(status.spent),
            "reserved_text": usd(status.reserved),
            "percent_text": f"{status.percent_text()}%",
            "resets_text": f"resets {relative(self.item.window.end, self.now)}",
            "verified": self.item.verified,
        }

    @property
    def spent_width(self) -> str:
        return _width(self.spent_permille)

    @property
    def reserved_width(self) -> str:
        return _width(self.reserved_permille)

    @property
    def resets(self) -> str:
        return relative(self.item.window.end, self.now)

    @property
    def resets_at(self) -> str:
        return when(self.item.window.end)


def cap_rows(items: list[CapProgress], now: datetime) -> list[CapRow]:
    return [CapRow(item, now) for item in items]
