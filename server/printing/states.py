"""The named values of printing: document types, template modes, paper presets."""

from __future__ import annotations

from server.core.states import Labelled, RowStatus

Status = RowStatus


class DocType(Labelled):
    """The documents a template prints (SPEC 7)."""

    INTAKE_RECEIPT = "intake_receipt", "工单受理单"
    CLOSING_RECEIPT = "closing_receipt", "结单单"
    SHIPMENT = "shipment", "发货单（装箱单）"
    ORDER = "order", "订货单"
    INBOUND = "inbound", "入库单"
    OUTBOUND = "outbound", "出库单"
    QUEUE_TICKET = "queue_ticket", "排队小票"
    QUOTE = "quote", "报价单"


class Mode(Labelled):
    HTML = "html", "HTML 排版"
    OVERLAY = "overlay", "套打"


class Align(Labelled):
    LEFT = "left", "左对齐"
    CENTER = "center", "居中"
    RIGHT = "right", "右对齐"


# name → (label, width mm, height mm); "custom" takes the width and height typed
PAPERS = {
    "a4": ("A4 210×297", 210, 297),
    "a5": ("A5 148×210", 148, 210),
    "continuous": ("连续纸 241×140", 241, 140),
    "roll80": ("80 毫米小票", 80, 110),
    "roll58": ("58 毫米小票", 58, 100),
}
