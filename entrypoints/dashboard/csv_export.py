"""CSV downloads of what a page shows, with exact amounts and spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from litestar import Response

from domain.money import Money
from domain.reports import SpendTotals

# A cell starting with one of these is a formula to a spreadsheet; customer ids and agent
# names come from the SDK, so they are defused with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

TOTALS_HEADER = (
    "cost_usd",
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "unpriced_calls",
    "error_calls",
)


def safe_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.format()
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def totals_cells(totals: SpendTotals) -> list[str]:
    return [
        totals.cost.format(),
        str(totals.calls),
        str(totals.input_tokens),
        str(totals.output_tokens),
        str(totals.cache_read_tokens),
        str(totals.cache_write_tokens),
        str(totals.reasoning_tokens),
        str(totals.unpriced_calls),
        str(totals.error_calls),
    ]


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # Cells produced here from numbers pass through; anything textual is defused.
        writer.writerow([cell if _is_number_text(cell) else safe_cell(cell) for cell in row])
    return Response(
        buffer.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _is_number_text(cell: object) -> bool:
    """Negative amounts ("-0.5") are numbers, not formulas."""
    return isinstance(cell, str) and _NUMBER.match(cell) is not None
