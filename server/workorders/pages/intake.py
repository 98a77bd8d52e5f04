"""【工单受理】 (SPEC 5): the front desk's intake form (also opened by a queue ticket's 【开单】
with the phone and ticket filled), the phone lookup that fills a known customer, the serial
number's device history, and the intake receipt's print view."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from server.core import hooks, validate
from server.core.errors import BusinessError, FieldErrors
from server.core.forms import form_data, form_rows
from server.core.tenancy import Ctx
from server.core.web import ctx_of, redirect, render
from server.masterdata.services import dictionaries
from server.queue.services import tickets
from server.system.services import orgs
from server.workorders import permissions as P
from server.workorders.services import customers, orders

APPEARANCE = ("外观完好", "划痕", "磕碰", "屏幕破裂", "后盖破损", "进液痕迹")
ACCESSORIES = ("充电器", "数据线", "耳机", "包装盒", "SIM卡", "保护壳", "发票")
INTAKE_FIELDS = (
    "goods_id",
    "category_id",
    "serial_no",
    "barcode",
    "service_type",
    "customer_type",
    "test_result",
    "fault_description",
    "promised_at",
    "technician_id",
    "remark",
    "queue_ticket_id",
)


def _joined(items: list[str], allowed: tuple[str, ...], text: Any) -> str:
    """The ticked common items and the free text as one line: "划痕、磕碰；左上角掉漆"."""
    ticked = "、".join(i for i in allowed if i in items)
    extra = text.strip() if isinstance(text, str) else ""
    return "；".join(x for x in (ticked, extra) if x)


def on_rows(exc: FieldErrors, kept: list[int]) -> FieldErrors:
    """The service's `issued_lines[i].qty` as the form's `line_qty#n`: the n-th row on the page
    (empty rows were not sent on), so app.js marks the box in that row."""
    errors = []
    for e in exc.errors:
        m = re.fullmatch(r"issued_lines\[(\d+)\]\.(\w+)", e.field or "")
        field = f"line_{m[2]}#{kept[int(m[1])]}" if m and int(m[1]) < len(kept) else e.field
        errors.append(BusinessError(e.detail, code=e.code, field=field))
    return FieldErrors(errors)


async def issued_rows(request: Request) -> tuple[list[dict], list[int]]:
    """The issued goods rows of a form (`_issued_row.html`) as the service's `issued_lines`,
    empty rows left out, and the positions on the page of those kept (for `on_rows`)."""
    rows = await form_rows(request, "line_warehouse_id", "line_goods_id", "line_qty", label="领用货品")
    kept = [n for n, r in enumerate(rows) if r["line_warehouse_id"] or r["line_goods_id"]]
    lines = [
        {"warehouse_id": r["line_warehouse_id"], "goods_id": r["line_goods_id"], "qty": r["line_qty"] or None}
        for r in (rows[n] for n in kept)
    ]
    return lines, kept


# the dictionaries an intake fills
INTAKE_KINDS = ("service_type", "customer_type", "test_result")


async def _choices(ctx: Ctx) -> dict:
    return await dictionaries.by_kind(ctx, INTAKE_KINDS, enabled_only=True)


class IntakePages(Controller):
    path = "/workorders"

    @get("/intake", opt={"perm": P.INTAKE_VIEW}, include_in_schema=False)
    async def form(
        self, request: Request, phone: FromQuery[str] = "", queue_ticket_id: FromQuery[str] = ""
    ) -> Response:
        """The intake form; from the queue counter it arrives with the ticket's phone and id."""
        ctx = ctx_of(request)
        ticket = await tickets.get(ctx, queue_ticket_id) if queue_ticket_id else None
        phone = validate.text(phone[:20], "手机号", 20) if phone else ""
        customer = await customers.by_phone(ctx, phone) if phone else None
        return render(
            request,
            "workorders/intake.html",
            title="工单受理",
            phone=phone,
            customer=customer,
            ticket=ticket,
            choices=await _choices(ctx),
            technicians=await orders.technicians(ctx, ctx.org_id),
            appearance=APPEARANCE,
            accessories=ACCESSORIES,
            centre=await orgs.repair_centre_of(ctx, ctx.org_id),  # a carry-in point's 【保存并送修】
        )

    @get("/intake/customer", opt={"perm": P.INTAKE_VIEW}, include_in_schema=False)
    async def customer(self, request: Request) -> Response:
        """The customer fields again, filled from the customer with the typed phone (if known)."""
        ctx = ctx_of(request)
        phone = request.query_params.get("customer.phone", "")
        try:
            customer = await customers.by_phone(ctx, phone)
        except BusinessError:
            customer = None
        return render(
            request,
            "workorders/intake.html",
            block="customer",
            phone=phone[:20],
            customer=customer,
            choices=await _choices(ctx),
        )

    @get("/intake/device", opt={"perm": P.INTAKE_VIEW}, include_in_schema=False)
    async def device(self, request: Request) -> Response:
        """The serial number's earlier work orders, and the repeat-repair flag."""
        serial = request.query_params.get("serial_no", "").strip()
        history = await orders.device(ctx_of(request), serial, brief=True) if serial else None
        return render(request, "workorders/intake.html", block="device", history=history)

    @post("/intake", opt={"perm": P.INTAKE}, include_in_schema=False, status_code=200)
    async def save(self, request: Request) -> Response:
        ctx = ctx_of(request)
        form = await form_data(request, lists=("appearance_items", "accessory_items"))
        # 是否领用货品 unticked: rows typed and hidden again do not count
        issued, kept = await issued_rows(request) if form.get("issue_goods") else ([], [])
        data = {k: form.get(k) for k in INTAKE_FIELDS if form.get(k) not in (None, "")}
        data |= {
            "customer": {f: form.get(f"customer.{f}", "") for f in ("name", "phone", "address", "customer_type")},
            "appearance": _joined(form["appearance_items"], APPEARANCE, form.get("appearance_text")),
            "accessories": _joined(form["accessory_items"], ACCESSORIES, form.get("accessories_text")),
            "issued_lines": issued,
            "gsx_coverage": form.get("gsx_coverage", ""),  # 【查询保修】 before saving (server/gsx)
        }
        try:
            order = await orders.intake(ctx, data)
        except FieldErrors as exc:
            raise on_rows(exc, kept) from None
        if form.get("then") == "send":  # a carry-in point: the order's page, at its 【送修】 form
            return redirect(request, f"/workorders/{order['id']}#wo-send-form")
        return redirect(request, f"/workorders/{order['id']}/receipt?from=intake")

    @get("/{order_id:int}/receipt", opt={"perm": (P.VIEW, P.INTAKE_VIEW)}, include_in_schema=False)
    async def receipt(self, request: Request, order_id: FromPath[int]) -> Response:
        """The intake receipt, printed with the tenant's template (printing, `?template_id=`);
        `?from=intake` (saving the intake opens it so) adds 【继续受理】 to its bar."""
        return await hooks.print_document(ctx_of(request), "intake_receipt", order_id, dict(request.query_params))


ROUTES = [IntakePages]
