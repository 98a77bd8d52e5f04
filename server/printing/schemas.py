"""API shapes of printing (hand-written msgspec Structs). Lengths are millimetres, font sizes
points; the service checks their ranges."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, Struct, UnsetType


class PaperIo(Struct):
    width_mm: float
    height_mm: float


class MarginsIo(Struct):
    top: float = 0
    right: float = 0
    bottom: float = 0
    left: float = 0


class OffsetIo(Struct):
    x: float = 0
    y: float = 0


class FieldIo(Struct):
    key: str  # one of GET /api/v1/print-templates/fields (a line field inside line_block)
    x_mm: float
    y_mm: float
    width_mm: float = 40
    font_size_pt: float = 10
    align: str = "left"  # left | center | right
    bold: bool = False


class LineBlockIo(Struct):
    y_mm: float = 0
    row_pitch_mm: float = 6
    max_rows: int = 10
    fields: list[FieldIo] = []


class TemplateIn(Struct):
    name: str
    doc_type: str  # intake_receipt | closing_receipt | shipment | order | inbound | outbound | queue_ticket | quote
    mode: str = "html"  # html | overlay
    paper: PaperIo = msgspec.field(default_factory=lambda: PaperIo(210, 297))
    margins_mm: MarginsIo = msgspec.field(default_factory=MarginsIo)
    source: str = ""
    background_id: int | None = None
    fields: list[FieldIo] = []
    line_block: LineBlockIo = msgspec.field(default_factory=LineBlockIo)
    offset_mm: OffsetIo = msgspec.field(default_factory=OffsetIo)
    is_default: bool = False


class TemplatePatch(Struct):
    name: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    paper: PaperIo | UnsetType = UNSET
    margins_mm: MarginsIo | UnsetType = UNSET
    source: str | UnsetType = UNSET
    background_id: int | None | UnsetType = UNSET
    fields: list[FieldIo] | UnsetType = UNSET
    line_block: LineBlockIo | UnsetType = UNSET
    offset_mm: OffsetIo | UnsetType = UNSET
    is_default: bool | UnsetType = UNSET  # true makes it the default of its type (the old one is unset)


class TemplateOut(Struct):
    id: int
    name: str
    doc_type: str
    mode: str
    paper: PaperIo
    margins_mm: MarginsIo
    source: str
    background_id: int | None
    fields: list[FieldIo]
    line_block: LineBlockIo
    offset_mm: OffsetIo
    is_default: bool
    updated_at: datetime


class TemplateExport(Struct):
    """A template as JSON to share with another tenant: `POST /api/v1/print-templates/import`."""

    name: str
    doc_type: str
    format: str = "weifu.print_template/1"
    mode: str = "html"
    paper: PaperIo = msgspec.field(default_factory=lambda: PaperIo(210, 297))
    margins_mm: MarginsIo = msgspec.field(default_factory=MarginsIo)
    source: str = ""
    fields: list[FieldIo] = []
    line_block: LineBlockIo = msgspec.field(default_factory=LineBlockIo)
    offset_mm: OffsetIo = msgspec.field(default_factory=OffsetIo)


class FieldLabel(Struct):
    key: str
    label: str


class FieldsOut(Struct):
    doc_type: str
    fields: list[FieldLabel]  # the document's fields (`doc.no`…), for the source and overlay fields
    line_fields: list[FieldLabel]  # a line's fields, for the overlay's line block
    rows: str  # the list the line block repeats (`doc.lines`), empty when the type has none
