"""What each document type gives a print template: its data as plain dicts and lists (no ORM
rows, no functions), the fields it offers, and sample data for the preview. The data is read
through the documents' own services, so a document the caller cannot see is a 404 here too."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from server.core.clock import local, now
from server.core.tenancy import Ctx
from server.inventory.services import documents as stock_docs
from server.logistics.services import orders as lg_orders
from server.logistics.services import shipments
from server.masterdata.services import dictionaries
from server.printing.states import DocType
from server.queue.services import tickets
from server.quotes import services as quotes
from server.workorders.services import orders as work_orders

WO_KINDS = ("service_type", "customer_type", "test_result", "repair_result", "payment_method", "closing_method")


def plain(value: Any, tz: str) -> Any:
    """`value` with times as local text, money and numbers as text or int, nothing as "": what a
    sandboxed template may hold."""
    if isinstance(value, dict):
        return {str(k): plain(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, tz) for v in value]
    if isinstance(value, datetime):
        return local(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    if value is None:
        return ""  # a blank on paper, not "None"
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True)
class DocSpec:
    """One document type: `fields` and `line_fields` are (key, label); `rows` names the list an
    overlay's line block repeats (`doc.lines`); `images` the fields holding an image as a `data:`
    URL (an overlay draws them as images, an HTML template puts them in `<img src>`)."""

    doc_type: DocType
    fields: tuple[tuple[str, str], ...]
    line_fields: tuple[tuple[str, str], ...]
    sample: dict
    load: Callable[[Ctx, int], Awaitable[dict]]
    rows: str = "doc.lines"
    images: tuple[str, ...] = ()


COMMON = (
    ("tenant_name", "租户（公司）名称"),
    ("org_name", "打印机构"),
    ("printed_at", "打印时间"),
    ("printed_by", "打印人"),
)
WO_FIELDS = (
    ("doc.no", "工单号"),
    ("doc.status_label", "状态"),
    ("doc.created_at", "受理时间"),
    ("doc.created_by_name", "受理人"),
    ("doc.customer.name", "客户"),
    ("doc.customer.phone", "手机号"),
    ("doc.customer.address", "地址"),
    ("doc.goods_name", "产品"),
    ("doc.serial_no", "序列号"),
    ("doc.barcode", "条形码"),
    ("doc.service_type_name", "服务类型"),
    ("doc.test_result_name", "检测结果"),
    ("doc.promised_at", "承诺时间"),
    ("doc.fault_description", "故障描述"),
    ("doc.appearance", "外观"),
    ("doc.accessories", "随机附件"),
    ("doc.technician_name", "维修技师"),
    ("doc.remark", "备注"),
    ("doc.status_url", "进度查询链接（二维码）"),
)
CLOSE_FIELDS = (
    ("doc.closed_at", "结单时间"),
    ("doc.repair_result_name", "维修结果"),
    ("doc.charges.labor", "工时费"),
    ("doc.charges.parts", "材料费"),
    ("doc.charges.total", "费用合计"),
    ("doc.amount_received", "实收金额"),
    ("doc.payment_method_name", "支付方式"),
    ("doc.closing_method_name", "结单方式"),
    ("doc.carrier", "快递公司"),
    ("doc.tracking_no", "快递单号"),
    ("doc.closing_remark", "结单备注"),
)
WO_LINE_FIELDS = (
    ("repair_code", "维修代码"),
    ("goods_name", "货品"),
    ("qty", "数量"),
    ("labor_fee", "工时费"),
    ("price", "单价"),
)
GOODS_LINE_FIELDS = (
    ("index", "序号"),
    ("goods_code", "货品编码"),
    ("goods_name", "货品名称"),
    ("spec", "规格型号"),
    ("unit", "单位"),
    ("price", "单价"),
    ("qty", "数量"),
    ("amount", "金额"),
)
DOC_HEAD = (
    ("doc.no", "单号"),
    ("doc.status_name", "状态"),
    ("doc.org_name", "制单机构"),
    ("doc.created_by_name", "制单人"),
    ("doc.created_at", "制单时间"),
    ("doc.remark", "备注"),
    ("doc.total_qty", "合计数量"),
    ("doc.total_amount", "合计金额"),
)


def _context(ctx: Ctx, doc: dict) -> dict:
    return {
        "doc": doc,
        "tenant_name": ctx.tenant_name,
        "org_name": ctx.org_name,
        "printed_at": local(now(), ctx.tz),
        "printed_by": ctx.user_name,
    }


async def _work_order(ctx: Ctx, order: dict) -> dict:
    names = dictionaries.names(await dictionaries.by_kind(ctx, WO_KINDS))
    doc = plain(order, ctx.tz)
    for kind in WO_KINDS:
        code = doc.get("final_service_type") or doc.get(kind) if kind == "service_type" else doc.get(kind)
        doc[f"{kind}_name"] = names[kind].get(code, code or "") if code else ""
    doc["repair_lines"] = [ln for ln in doc["lines"] if ln["kind"] == "repair"]
    return _context(ctx, doc)


async def _intake(ctx: Ctx, doc_id: int) -> dict:
    return await _work_order(ctx, await work_orders.get(ctx, doc_id))


async def _closing(ctx: Ctx, doc_id: int) -> dict:
    return await _work_order(ctx, await work_orders.closed(ctx, doc_id))


def _goods_doc(ctx: Ctx, doc: dict) -> dict:
    out = plain(doc, ctx.tz)
    for i, line in enumerate(out.get("lines", []), 1):
        line["index"] = i
        line.setdefault("price", line.get("unit_price", ""))
    return _context(ctx, out)


async def _shipment(ctx: Ctx, doc_id: int) -> dict:
    return _goods_doc(ctx, await shipments.get(ctx, "shipment", doc_id))


async def _order(ctx: Ctx, doc_id: int) -> dict:
    return _goods_doc(ctx, await lg_orders.get(ctx, "order", doc_id))


async def _inbound(ctx: Ctx, doc_id: int) -> dict:
    return _goods_doc(ctx, await stock_docs.get(ctx, "inbound", doc_id))


async def _outbound(ctx: Ctx, doc_id: int) -> dict:
    return _goods_doc(ctx, await stock_docs.get(ctx, "outbound", doc_id))


async def _ticket(ctx: Ctx, doc_id: int) -> dict:
    doc = plain(await tickets.receipt(ctx, doc_id), ctx.tz)
    doc["phone"] = tickets.masked_phone(doc["phone"] or "")  # a slip is seen by others
    return _context(ctx, doc)


async def _quote(ctx: Ctx, doc_id: int) -> dict:
    doc = plain(await quotes.for_print(ctx, doc_id), ctx.tz)
    for i, line in enumerate(doc["lines"], 1):
        line["index"] = i
    return _context(ctx, doc)


# --- sample data ---------------------------------------------------------------------------------

SAMPLE_COMMON = {
    "tenant_name": "示例维修服务有限公司",
    "org_name": "上海徐汇服务中心",
    "printed_at": "2026-12-07 10:30",
    "printed_by": "张三",
}
_WO_SAMPLE = {
    "id": 1,
    "no": "WO202612070001",
    "status": "closed",
    "status_label": "已结单",
    "status_url": "http://localhost:8000/s/Ab3dEf6hIj9kLm2nOp5qRs",
    "created_at": "2026-12-07 09:12",
    "created_by_name": "李受理",
    "customer": {"name": "王先生", "phone": "13800138000", "address": "上海市徐汇区漕溪北路 1 号", "customer_type": ""},
    "goods_name": "iPhone 15 Pro 256G",
    "serial_no": "F2LXK0AAHG7F",
    "barcode": "6901234567890",
    "service_type_name": "保内维修",
    "test_result_name": "确认故障",
    "customer_type_name": "个人",
    "promised_at": "2026-12-10 18:00",
    "fault_description": "屏幕有亮线，偶发触摸失灵",
    "appearance": "机身轻微划痕",
    "accessories": "无",
    "technician_name": "赵技师",
    "remark": "",
    "closed_at": "2026-12-09 16:40",
    "repair_result_name": "已修复",
    "charges": {"labor": "80.0000", "parts": "450.0000", "total": "530.0000"},
    "amount_received": "530.0000",
    "payment_method_name": "微信",
    "closing_method_name": "自取",
    "carrier": "",
    "tracking_no": "",
    "closing_remark": "",
}
_WO_LINES = [
    {
        "kind": "repair",
        "repair_code": "R-SCR",
        "goods_name": "屏幕总成",
        "qty": 1,
        "labor_fee": "80.0000",
        "price": "450.0000",
    },
    {"kind": "repair", "repair_code": "R-CHK", "goods_name": "", "qty": 1, "labor_fee": "0.0000", "price": "0.0000"},
]
_GOODS_LINES = [
    {
        "index": i,
        "goods_code": f"G{i:04d}",
        "goods_name": name,
        "spec": spec,
        "unit": "个",
        "price": price,
        "qty": qty,
        "amount": f"{Decimal(price) * qty:.4f}",
    }
    for i, (name, spec, price, qty) in enumerate(
        [
            ("屏幕总成", "6.1 英寸", "450.0000", 2),
            ("电池", "3200mAh", "120.0000", 5),
            ("尾插排线", "Type-C", "35.0000", 10),
        ],
        1,
    )
]


def _goods_sample(no: str, **extra: Any) -> dict:
    return SAMPLE_COMMON | {
        "doc": {
            "id": 1,
            "no": no,
            "status_name": "已完成",
            "org_name": "上海徐汇服务中心",
            "created_by_name": "李仓管",
            "created_at": "2026-12-07 09:12",
            "completed_at": "2026-12-07 11:00",
            "remark": "示例备注",
            "total_qty": 17,
            "total_amount": "1850.0000",
            "lines": _GOODS_LINES,
            **extra,
        }
    }


SHIPMENT_FIELDS = DOC_HEAD + (
    ("doc.type_name", "发货类型"),
    ("doc.warehouse_name", "出库仓库"),
    ("doc.to_org_name", "收货机构"),
    ("doc.carrier", "物流公司"),
    ("doc.tracking_no", "运单号"),
    ("doc.completed_at", "出库时间"),
)
ORDER_FIELDS = DOC_HEAD + (
    ("doc.parent_org_name", "供货机构"),
    ("doc.submitted_at", "提交时间"),
    ("doc.reviewed_by_name", "审核人"),
    ("doc.reviewed_at", "审核时间"),
)
STOCK_FIELDS = DOC_HEAD + (
    ("doc.type_name", "类型"),
    ("doc.warehouse_name", "仓库"),
    ("doc.supplier_name", "供应商"),
    ("doc.completed_at", "完成时间"),
)
TICKET_FIELDS = (
    ("doc.no", "排队号"),
    ("doc.service_name", "业务"),
    ("doc.ahead", "前面等候人数"),
    ("doc.taken_at", "取号时间"),
    ("doc.phone", "手机号（隐去中间四位）"),
)
QUOTE_FIELDS = (
    ("doc.no", "工单号"),
    ("doc.id", "报价编号"),
    ("doc.status_label", "报价状态"),
    ("doc.created_at", "报价时间"),
    ("doc.created_by_name", "报价人"),
    ("doc.valid_until", "有效期至"),
    ("doc.customer.name", "客户"),
    ("doc.customer.phone", "手机号"),
    ("doc.goods_name", "产品"),
    ("doc.serial_no", "序列号"),
    ("doc.fault_description", "故障描述"),
    ("doc.labor", "工时费合计"),
    ("doc.parts", "材料费合计"),
    ("doc.total", "报价合计"),
    ("doc.decided_by_name", "经办（出示报价）"),
    ("doc.decided_at", "客户确认时间"),
    ("doc.decline_reason", "拒绝原因"),
    ("doc.signature", "客户签字（图片）"),
)
QUOTE_LINE_FIELDS = (
    ("index", "序号"),
    ("repair_code", "维修项目"),
    ("goods_name", "配件"),
    ("qty", "数量"),
    ("labor_fee", "工时费"),
    ("price", "配件单价"),
    ("amount", "金额"),
)
# a few strokes, as the iPad's pad keeps an SVG signature
_SAMPLE_SIGNATURE = (
    "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80" viewBox="0 0 240 80">'
        b'<path d="M10 60 C30 10 50 10 60 50 S90 70 100 30 S140 20 150 55 L230 40" '
        b'fill="none" stroke="#000" stroke-width="3" stroke-linecap="round"/></svg>'
    ).decode()
)
_QUOTE_SAMPLE = {
    "id": 1,
    "no": "WO202612070001",
    "work_order_id": 1,
    "status": "approved",
    "status_label": "已同意",
    "valid_until": "2026-12-14",
    "created_at": "2026-12-07 10:05",
    "created_by_name": "李受理",
    "customer": {"name": "王先生", "phone": "13800138000"},
    "goods_name": "iPhone 15 Pro 256G",
    "serial_no": "F2LXK0AAHG7F",
    "fault_description": "屏幕有亮线，偶发触摸失灵",
    "labor": "80.0000",
    "parts": "450.0000",
    "total": "530.0000",
    "decided_by_name": "李受理",
    "decided_at": "2026-12-07 10:12",
    "decline_reason": "",
    "signature": _SAMPLE_SIGNATURE,
    "lines": [
        {
            "index": 1,
            "repair_code": "R-SCR",
            "goods_name": "屏幕总成",
            "qty": 1,
            "labor_fee": "80.0000",
            "price": "450.0000",
            "amount": "530.0000",
        },
        {
            "index": 2,
            "repair_code": "R-CHK",
            "goods_name": "",
            "qty": 1,
            "labor_fee": "0.0000",
            "price": "0.0000",
            "amount": "0.0000",
        },
    ],
}

SPECS: dict[str, DocSpec] = {
    s.doc_type: s
    for s in (
        DocSpec(
            DocType.INTAKE_RECEIPT,
            COMMON + WO_FIELDS,
            WO_LINE_FIELDS,
            SAMPLE_COMMON
            | {"doc": _WO_SAMPLE | {"status_label": "待维修", "lines": _WO_LINES[:0], "repair_lines": []}},
            _intake,
            "doc.repair_lines",
        ),
        DocSpec(
            DocType.CLOSING_RECEIPT,
            COMMON + WO_FIELDS + CLOSE_FIELDS,
            WO_LINE_FIELDS,
            SAMPLE_COMMON | {"doc": _WO_SAMPLE | {"lines": _WO_LINES, "repair_lines": _WO_LINES}},
            _closing,
            "doc.repair_lines",
        ),
        DocSpec(
            DocType.SHIPMENT,
            COMMON + SHIPMENT_FIELDS,
            GOODS_LINE_FIELDS,
            _goods_sample(
                "SH202612070001",
                type_name="调拨发货",
                warehouse_name="良品库",
                to_org_name="杭州西湖服务中心",
                carrier="顺丰速运",
                tracking_no="SF1234567890",
            ),
            _shipment,
        ),
        DocSpec(
            DocType.ORDER,
            COMMON + ORDER_FIELDS,
            GOODS_LINE_FIELDS,
            _goods_sample(
                "OD202612070001",
                parent_org_name="华东大区",
                submitted_at="2026-12-07 09:30",
                reviewed_by_name="周审核",
                reviewed_at="2026-12-07 10:00",
            ),
            _order,
        ),
        DocSpec(
            DocType.INBOUND,
            COMMON + STOCK_FIELDS,
            GOODS_LINE_FIELDS,
            _goods_sample(
                "RK202612070001", type_name="采购入库", warehouse_name="良品库", supplier_name="深圳配件供应商"
            ),
            _inbound,
        ),
        DocSpec(
            DocType.OUTBOUND,
            COMMON + STOCK_FIELDS,
            GOODS_LINE_FIELDS,
            _goods_sample("CK202612070001", type_name="领用出库", warehouse_name="良品库", supplier_name=""),
            _outbound,
        ),
        DocSpec(
            DocType.QUEUE_TICKET,
            COMMON + TICKET_FIELDS,
            (),
            SAMPLE_COMMON
            | {
                "doc": {
                    "id": 1,
                    "no": "A012",
                    "service_name": "手机维修",
                    "ahead": 3,
                    "taken_at": "2026-12-07 10:28",
                    "phone": "138****8000",
                    "status_name": "等候中",
                }
            },
            _ticket,
            "",
        ),
        DocSpec(
            DocType.QUOTE,
            COMMON + QUOTE_FIELDS,
            QUOTE_LINE_FIELDS,
            SAMPLE_COMMON | {"doc": _QUOTE_SAMPLE},
            _quote,
            images=("doc.signature",),
        ),
    )
}


def spec(doc_type: str) -> DocSpec:
    return SPECS[DocType(doc_type)]


async def data_for(ctx: Ctx, doc_type: str, doc_id: int) -> dict:
    """The document's data for its template; NotFound when the caller may not see it."""
    return await spec(doc_type).load(ctx, doc_id)


def lookup(data: dict, key: str) -> Any:
    """The value at a dotted `key` (`doc.customer.name`), "" when absent."""
    value: Any = data
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return ""
    return "" if value is None else value
