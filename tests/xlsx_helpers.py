"""Helpers of the Excel safety tests: hand-made workbooks (a zip bomb among them) and a gate that
holds openpyxl's work where it runs, to show that the event loop answers meanwhile."""

from __future__ import annotations

import asyncio
import io
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor, wait

import httpx
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How long a test waits for something that should happen at once; reached only when the code is
# broken (the loop is blocked), never a measure of speed.
HANG = 60

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
DECL = '<?xml version="1.0" encoding="UTF-8"?>'
PARTS = {
    "[Content_Types].xml": (
        f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'{DECL}<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{DECL}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
        '<sheets><sheet name="货品" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{DECL}<Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    """A worksheet around `rows` (`<row>` elements), optionally claiming a `<dimension>`."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{DECL}<worksheet xmlns="{MAIN}">{dim}<sheetData>{rows}</sheetData></worksheet>'


def handmade_xlsx(sheet: str, shared: list[str] = (), extra: dict[str, bytes | str] | None = None) -> bytes:
    """A minimal workbook, written part by part, with `extra` members added or replacing parts."""
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
    members = PARTS | {
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": f'{DECL}<sst xmlns="{MAIN}">{strings}</sst>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in (members | (extra or {})).items():
            z.writestr(name, content)
    return buf.getvalue()


def zip_bomb(unpacked: int = 132_000_000) -> bytes:
    """A valid-looking workbook whose shared strings unpack to `unpacked` bytes of one short
    string repeated (the audit's file: 0.31 MB that unpacks to 132 MB). Streamed, never held."""
    item = b"<si><t>x</t></si>"
    chunk = item * 65_536
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in PARTS.items():
            z.writestr(name, content)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(f'{DECL}<sst xmlns="{MAIN}">'.encode())
            for _ in range(unpacked // len(chunk)):
                member.write(chunk)
            member.write(b"</sst>")
    return buf.getvalue()


class Gate:
    """Replaces `owner.name` (a plain function or method that openpyxl work goes through) with
    one that notes whether it runs on an event loop's thread, then waits until `release()`."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.on_loop: list[bool] = []
        real = getattr(owner, name)

        def gated(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                self.on_loop.append(True)
            except RuntimeError:
                self.on_loop.append(False)
            self.entered.set()
            self.released.wait(HANG)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, gated)

    def release(self) -> None:
        self.released.set()


def healthz_while_held(client: AsyncTestClient, gate: Gate, method: str, url: str, **kwargs) -> httpx.Response:
    """Send `method url` and, while its openpyxl work is held at `gate`, GET /healthz: it must
    answer (the app's event loop is free) before the held request does. The held request's
    response, once released.

    AsyncTestClient blocks its caller for each request, so both go through a plain httpx client
    from threads, into the app's event loop (as `tests.api_helpers.concurrently` does)."""
    sync = httpx.Client(transport=TestClientTransport(client), base_url=str(client.base_url))
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(sync.request, method, url, **kwargs)
        try:
            assert gate.entered.wait(HANG), "the request never reached openpyxl"
            health = pool.submit(sync.get, "/healthz")
            wait([health], timeout=HANG)
            assert health.done(), "/healthz waited for openpyxl: the work runs on the event loop"
            assert health.result().status_code == 200
            assert not held.done()
        finally:
            gate.release()
        response = held.result(timeout=HANG)
    assert gate.on_loop == [False], gate.on_loop
    return response
