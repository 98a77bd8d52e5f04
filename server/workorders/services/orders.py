"""The work order life cycle (SPEC 5): intake → repair → completion → closing, or cancel.

Every transition is one `atomic()` step that moves the status by a conditional UPDATE on the
status it leaves (`claim`): two clicks on 【维修完毕】 or 【结单】 at once post once, and a
line edit cannot slip in beside a completion. Stock leaves and enters only through inventory's
`post_moves`, at completion, as one batch: a shortage refuses the whole completion.
"""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

import realtime
from server.core import audit, authcache, hooks, links, money, numbering, validate
from server.core.clock import now
from server.core.db import atomic, json_list, json_rows
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.pagination import Page, PageParams, paginate, remembered
from server.core.search import code_or_name, starts_with
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.inventory.services.stock import Move, post_moves
from server.inventory.tables import Stock
from server.masterdata.services import codes, dictionaries, goods, trees, warehouses
from server.masterdata.states import TreeKind, WarehouseType
from server.masterdata.tables import FaultReason, Goods, OrgWarehouse, RepairCode, TreeNode, Warehouse
from server.queue.services import tickets
from server.system.services import orgs, roles, users
from server.system.tables import Org, User
from server.workorders import permissions as P
from server.workorders.schemas import WorkOrderFilters
from server.workorders.services import customers
from server.workorders.services.settings import limits_of, settings
from server.workorders.states import OPEN, LineKind, Sla, WorkOrderStatus
from server.workorders.tables import Customer, WorkOrder, WorkOrderFaultReason, WorkOrderLine, WorkOrderStatusLog

# a quote, a notice or a GSX repair changes only its order's page: no list row, no figure
realtime.topic("workorders", (P.VIEW, P.INTAKE_VIEW), own_kinds=("quote", "notice", "gsx"))
audit.ENTITIES.update({"work_order": "工单", "customer": "客户"})
audit.ACTIONS.update(
    {
        "assign": "派工",
        "start_repair": "开始维修",
        "complete": "维修完毕",
        "close": "结单",
        "cancel": "取消",
        "rate": "客户评价",
    }
)
audit.STATES.update({s.value: s.label for s in WorkOrderStatus if s.value not in audit.STATES})

S = WorkOrderStatus
DOC_TYPE = "work_order"
MAX_QTY = 100_000
MAX_LINES = 200
TEXT_FIELDS = {  # field: (label, max length)
    "serial_no": ("序列号", 64),
    "barcode": ("条形码", 64),
    "fault_description": ("故障描述", 1000),
    "appearance": ("外观", 500),
    "accessories": ("随机附件", 500),
    "remark": ("备注", 500),
}
DICT_FIELDS = ("service_type", "customer_type", "test_result")


# --- reading ---------------------------------------------------------------------------------------


def _visible(ctx: Ctx):
    """The orders of the caller's subtree, and those sent between it and another org (issue 20):
    the org of the two not holding the device reads them too (`peer_org_path`)."""
    mine = scoped(ctx, WorkOrder, subtree=WorkOrder.org_path)
    return mine if ctx.sees_everything else mine | scoped(ctx, WorkOrder, subtree=WorkOrder.peer_org_path)


def _log_visible(ctx: Ctx):
    """The timelines of the orders `_visible` gives, through the join."""
    mine = scoped(ctx, WorkOrderStatusLog, subtree=WorkOrderStatusLog.work_order.org_path)
    if ctx.sees_everything:
        return mine
    return mine | scoped(ctx, WorkOrderStatusLog, subtree=WorkOrderStatusLog.work_order.peer_org_path)


def away():
    """Orders whose device is away from where it was taken in (issue 20): 送修在途, at the repair
    centre, 返还在途 — sent, and not held by the intake org or still on its way there."""
    moved = WhereRaw('"wo_order"."org_id" <> "wo_order"."intake_org_id"') | (WorkOrder.status == S.SENDING)
    return (WorkOrder.peer_org_path != "") & WorkOrder.sent_at.is_not_null() & moved


def may_act(ctx: Ctx, order: dict) -> bool:
    """Whether the caller acts on an order it sees: any of its subtree's, but a sent order only
    where the device is — the holding org itself, or an org above it that is not above the other
    org of the two (a centre above its carry-in point does not close the customer's order)."""
    peer = order["peer_org_path"]
    return not peer or order["org_id"] == ctx.org_id or not peer.startswith(ctx.org_path)


def at_intake(order: dict) -> bool:
    """Whether the device is at the org that took it in: only there is an order closed with the
    customer or cancelled (a repair centre returns it first, issue 20)."""
    return order["org_id"] == order["intake_org_id"]


def _not_at_intake(order: dict, doing: str) -> Conflict:
    return Conflict(f"工单 {order['no']} 在维修中心，须返还接机点后才能{doing}", code="not_at_intake")


def _name(table: type, expression: str, key: str, alias: str):
    """The name of the row `key` refers to (a lookup by primary key), as a column of the same
    statement: a page of 50 orders reads its goods and technicians with its rows. The ids are the
    tenant's own: the services wrote them from its rows."""
    t = table._meta.tablename
    return QueryString(f'(SELECT {expression} FROM "{t}" n WHERE n."id" = {key})').as_alias(alias)


CUSTOMER_COLUMNS = ("id", "name", "phone", "email", "address", "customer_type", "no_notify", "updated_at")
CODE_NAME = """n."code" || ' ' || n."name\""""
NAMES = (
    _name(Goods, CODE_NAME, '"wo_order"."goods_id"', "goods_name"),
    _name(User, 'n."name"', '"wo_order"."technician_id"', "technician_name"),
)
# what the 【工单处理】 list, 【我的维修】 and a device's history show of an order
BRIEF_COLUMNS = (
    *(WorkOrder.id, WorkOrder.no, WorkOrder.org_id, WorkOrder.status, WorkOrder.status_at, WorkOrder.serial_no),
    *(WorkOrder.intake_org_id, WorkOrder.repair_org_id),
    *(WorkOrder.fault_description, WorkOrder.technician_id, WorkOrder.total, WorkOrder.created_at),
    WorkOrder.closed_at,
    WorkOrder.customer.name.as_alias("customer.name"),
    WorkOrder.customer.phone.as_alias("customer.phone"),
    *NAMES,
)

# an order as the API and its page show it: its customer joined (`customer.*` keys) and the names
# of its goods and technician, one statement where four were
READING_COLUMNS = (
    *WorkOrder.all_columns(),
    *(getattr(WorkOrder.customer, c).as_alias(f"customer.{c}") for c in CUSTOMER_COLUMNS),
    *NAMES,
    _name(Org, 'n."name"', '"wo_order"."intake_org_id"', "intake_org_name"),
    _name(Org, 'n."name"', '"wo_order"."repair_org_id"', "repair_org_name"),
)


def _reading(brief: bool = False, page: bool = False):
    """Orders as they are read and shown (`READING_COLUMNS`, the fault reasons and the lines), as
    a list shows them (`brief`), or as their page shows them (`page`: each line's on-hand and the
    status log too): one statement."""
    if brief:
        return WorkOrder.select(*BRIEF_COLUMNS)
    return WorkOrder.select(*READING_COLUMNS, *_related(WorkOrder._meta.db.engine_type, page))


@functools.cache
def _related(engine_type: str, page: bool) -> tuple[QueryString, ...]:
    """The order's rows of other tables as columns of its own reading: its fault reason ids ("3,7"),
    its lines and (`page`) its status log and what other domains read with it. One object per
    engine and kind, so the select's head is kept (`db._SelectHead`)."""
    if engine_type == "sqlite":
        ids = 'group_concat(r."fault_reason_id")'
    else:
        ids = """string_agg(r."fault_reason_id"::text, ',')"""
    table = WorkOrderFaultReason._meta.tablename
    sql = f'(SELECT {ids} FROM "{table}" r WHERE r."work_order" = "wo_order"."id")'
    reasons = QueryString(sql).as_alias("fault_reason_ids")
    line = {c: f'l."{c}"' for c in ("id", "kind", "repair_code_id", "warehouse_id", "goods_id", "qty")}
    line.update({c: f'l."{c}"' for c in ("labor_fee", "price")})
    for name, table, key in (
        ("repair_code", RepairCode, "repair_code_id"),
        ("goods_name", Goods, "goods_id"),
        ("warehouse_name", Warehouse, "warehouse_id"),
    ):
        line[name] = f'(SELECT {CODE_NAME} FROM "{table._meta.tablename}" n WHERE n."id" = l."{key}")'
    if page:  # what the technician can still take before 【维修完毕】: on-hand in the order's org
        line["stock"] = (
            f'(SELECT s."qty" FROM "{Stock._meta.tablename}" s WHERE s."org_id" = "wo_order"."org_id"'
            ' AND s."warehouse" = l."warehouse_id" AND s."goods" = l."goods_id")'
        )
    lines = json_rows(line, f'FROM "{WorkOrderLine._meta.tablename}" l WHERE l."work_order" = "wo_order"."id"', "lines")
    if not page:
        return reasons, lines
    log = {c: f'g."{c}"' for c in ("id", "from_status", "to_status", "user_id", "user_name", "at")}
    source = f'FROM "{WorkOrderStatusLog._meta.tablename}" g WHERE g."work_order" = "wo_order"."id"'
    others = (QueryString(sql).as_alias(alias) for alias, sql in hooks.order_page_columns().items())
    return reasons, lines, json_rows(log, source, "status_log"), *others


async def row_of(ctx: Ctx, order_id: Any, query=None) -> dict:
    """The visible order; `query` another select of it (`_reading()`)."""
    oid = validate.ident(order_id, "工单", "id")
    row = await (query or WorkOrder.select()).where(_visible(ctx) & (WorkOrder.id == oid)).first()
    if row is None:
        raise NotFound("工单")
    return row


async def holding(ctx: Ctx, order_id: Any) -> dict:
    """The visible order, for a change: refused (403) where the device is at the other org."""
    order = await row_of(ctx, order_id)
    if not may_act(ctx, order):
        where = (await orgs.names(ctx, {order["org_id"]})).get(order["org_id"], "")
        raise Forbidden(f"工单 {order['no']} 的设备在「{where}」，只有设备所在的机构可以操作", code="not_holder")
    return order


def sla_of(row: dict, limits: dict, at: datetime) -> str:
    """green / yellow / red from the time spent in the current status; a finished order is green."""
    limit = limits.get(row["status"])
    if not limit:
        return Sla.GREEN
    minutes = (at - row["status_at"]).total_seconds() / 60
    if minutes <= limit["green"]:
        return Sla.GREEN
    return Sla.YELLOW if minutes <= limit["yellow"] else Sla.RED


def _customer(row: dict) -> dict:
    """The customer joined into a `_reading()` row."""
    return {c: row[f"customer.{c}"] for c in CUSTOMER_COLUMNS}


def _line_dict(line: dict) -> dict:
    return {
        "id": line["id"],
        "kind": line["kind"],
        "repair_code_id": line["repair_code_id"],
        "repair_code": line["repair_code"] or "",
        "warehouse_id": line["warehouse_id"],
        "warehouse_name": line["warehouse_name"] or "",
        "goods_id": line["goods_id"],
        "goods_name": line["goods_name"] or "",
        "qty": line["qty"],
        "labor_fee": money.fmt(line["labor_fee"]),
        "price": money.fmt(line["price"]),
    }


LABELS = S.labels()


def _brief(rows: list[dict], limits: dict) -> list[dict]:
    """Dicts of `BRIEF_COLUMNS` rows with their SLA colour: what a list shows, no lines."""
    at = now()
    return [
        {
            "id": r["id"],
            "no": r["no"],
            "org_id": r["org_id"],
            "intake_org_id": r["intake_org_id"],
            "repair_org_id": r["repair_org_id"],
            "status": r["status"],
            "status_label": LABELS[r["status"]],
            "status_at": r["status_at"],
            "sla": sla_of(r, limits, at),
            "customer": {"name": r["customer.name"], "phone": r["customer.phone"]},
            "goods_name": r["goods_name"] or "",
            "serial_no": r["serial_no"],
            "fault_description": r["fault_description"],
            "technician_id": r["technician_id"],
            "technician_name": r["technician_name"] or "",
            "charges": {"total": money.fmt(r["total"])},
            "created_at": r["created_at"],
        }
        for r in rows
    ]


async def _as_dicts(ctx: Ctx, rows: list[dict], sla_settings: dict | None = None) -> list[dict]:
    """API dicts of `_reading()` orders with their lines, names and SLA; `sla_settings` when the
    caller has read them already."""
    if not rows:
        return []
    limits = limits_of(sla_settings or await settings(ctx))
    at = now()
    out = []
    for r in rows:
        out.append(
            {
                "id": r["id"],
                "no": r["no"],
                "org_id": r["org_id"],
                "intake_org_id": r["intake_org_id"],
                "intake_org_name": r["intake_org_name"] or "",
                "repair_org_id": r["repair_org_id"],
                "repair_org_name": r["repair_org_name"] or "",
                "status": r["status"],
                "status_label": LABELS[r["status"]],
                "status_at": r["status_at"],
                "status_url": links.status_page(r["status_token"]) if r["status_token"] else "",
                "sla": sla_of(r, limits, at),
                "customer_id": r["customer"],
                "customer": _customer(r),
                "goods_id": r["goods_id"],
                "goods_name": r["goods_name"] or "",
                "category_id": r["category_id"],
                **{f: r[f] for f in TEXT_FIELDS},
                **{f: r[f] for f in DICT_FIELDS},
                "promised_at": r["promised_at"],
                "technician_id": r["technician_id"],
                "technician_name": r["technician_name"] or "",
                "queue_ticket_id": r["queue_ticket_id"],
                "final_service_type": r["final_service_type"],
                "fault_reason_ids": sorted(int(x) for x in (r["fault_reason_ids"] or "").split(",") if x),
                "defective_warehouse_id": r["defective_warehouse_id"],
                "repair_result": r["repair_result"],
                "charges": {
                    "labor": money.fmt(r["labor"]),
                    "parts": money.fmt(r["parts"]),
                    "total": money.fmt(r["total"]),
                },
                "closing_method": r["closing_method"],
                "carrier": r["carrier"],
                "tracking_no": r["tracking_no"],
                "amount_received": money.fmt(r["amount_received"]),
                "payment_method": r["payment_method"],
                "closing_remark": r["closing_remark"],
                "cancel_reason": r["cancel_reason"],
                "created_by_name": r["created_by_name"],
                "created_at": r["created_at"],
                "repaired_at": r["repaired_at"],
                "closed_at": r["closed_at"],
                "cancelled_at": r["cancelled_at"],
                "updated_at": r["updated_at"],
                "rating": r["rating"],
                "rated_at": r["rated_at"],
                "sent_at": r["sent_at"],
                "carry_charge": money.fmt(r["carry_charge"]),
                "can_act": may_act(ctx, r),
                "at_intake": at_intake(r),
                "lines": [_line_dict(ln) for ln in json_list(r["lines"], "id")],
            }
        )
    return out


async def get(ctx: Ctx, order_id: Any) -> dict:
    return (await _as_dicts(ctx, [await row_of(ctx, order_id, _reading())]))[0]


async def for_page(ctx: Ctx, order_id: Any) -> tuple[dict, list[dict], dict[int, int]]:
    """The order as its page shows it, from one reading: the order (`get`, with what other domains'
    cards read with it: `hooks.reads_with_order_page`), its timeline (`history`) and each material
    line's on-hand in its warehouse (what the technician can still take before 【维修完毕】)."""
    row = await row_of(ctx, order_id, _reading(page=True))
    order = (await _as_dicts(ctx, [row]))[0] | {alias: row[alias] for alias in hooks.order_page_columns()}
    stock = {
        ln["id"]: ln["stock"] or 0 for ln in json_list(row["lines"], "id") if ln["warehouse_id"] and ln["goods_id"]
    }
    log = [{**r, "at": _instant(r["at"])} for r in json_list(row["status_log"], "id")]
    return order, await _timeline(ctx, row["id"], log), stock


async def by_status_token(token: str) -> dict | None:
    """The order (id, tenant, org path) whose status page `token` opens, or None. Unscoped: the
    token is the caller's only credential (a customer's phone), and names one order of one tenant."""
    if not 16 <= len(token) <= 32:
        return None
    columns = (WorkOrder.id, WorkOrder.tenant_id, WorkOrder.org_path)
    return await WorkOrder.select(*columns).where(WorkOrder.status_token == token).first()


async def closed(ctx: Ctx, order_id: Any) -> dict:
    """The order for its closing receipt: only a closed order has one."""
    order = await get(ctx, order_id)
    if order["status"] != S.CLOSED:
        raise invalid(order, "打印结单单")
    return order


def _day(value: str, label: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BusinessError(f"{label}格式不正确，应为 YYYY-MM-DD", code="invalid_field", field=field) from None


async def filter_where(ctx: Ctx, filters: WorkOrderFilters):
    """The 【工单处理】 list's filters, inside the caller's org subtree."""
    where = _visible(ctx)
    if filters.no:
        where &= starts_with(WorkOrder.no, validate.text(filters.no, "工单号", 24, field="no"))
    if filters.q:
        q = validate.text(filters.q, "客户", 50, field="q")
        found = Customer.select(Customer.id).where(
            scoped(ctx, Customer) & code_or_name(q, Customer.id, Customer.phone, Customer.name)
        )
        where &= WorkOrder.customer.is_in(found)
    if filters.phone:
        phone = validate.text(filters.phone, "手机号", 20, field="phone")
        # the customers first: given their ids (usually one), SQLite without statistics reads the
        # orders by (tenant_id, customer); given a subquery it walks every order of the tenant
        found = await Customer.select(Customer.id).where(scoped(ctx, Customer) & (Customer.phone == phone))
        where &= WorkOrder.customer.is_in([r["id"] for r in found] or [0])
    if filters.serial_no:
        where &= WorkOrder.serial_no == validate.text(filters.serial_no, "序列号", 64, field="serial_no")
    if filters.status:
        where &= WorkOrder.status == validate.choice(filters.status, "状态", S.labels(), field="status")
    if filters.repair_result:
        where &= WorkOrder.repair_result == validate.text(filters.repair_result, "维修结果", 32, field="repair_result")
    if filters.service_type:
        where &= WorkOrder.service_type == validate.text(filters.service_type, "服务类型", 32, field="service_type")
    if filters.technician_id:
        where &= WorkOrder.technician_id == validate.ident(filters.technician_id, "维修技师", "technician_id")
    if filters.mine:
        where &= WorkOrder.technician_id == (ctx.user_id or 0)
    if filters.away:
        where &= away()
    if filters.org_id:
        org = await orgs.get(ctx, filters.org_id)
        where &= starts_with(WorkOrder.org_path, org["path"])
    if filters.intake_org_id:  # one org exactly (a carry-in point's orders, wherever repaired)
        where &= WorkOrder.intake_org_id == validate.ident(filters.intake_org_id, "接机机构", "intake_org_id")
    if filters.repair_org_id:  # one org exactly (a repair centre's orders, wherever taken in)
        where &= WorkOrder.repair_org_id == validate.ident(filters.repair_org_id, "维修机构", "repair_org_id")
    tz = ZoneInfo(ctx.tz)
    if filters.date_from:
        where &= WorkOrder.created_at >= _day(filters.date_from, "开始日期", "date_from").replace(tzinfo=tz)
    if filters.date_to:
        end = _day(filters.date_to, "结束日期", "date_to").replace(tzinfo=tz) + timedelta(days=1)
        where &= WorkOrder.created_at < end
    if filters.repaired_from:
        start = _day(filters.repaired_from, "完工开始日期", "repaired_from").replace(tzinfo=tz)
        where &= WorkOrder.repaired_at >= start
    if filters.repaired_to:
        end = _day(filters.repaired_to, "完工结束日期", "repaired_to").replace(tzinfo=tz) + timedelta(days=1)
        where &= WorkOrder.repaired_at < end
    if filters.sla:
        where &= _sla_where(
            validate.choice(filters.sla, "时效", Sla.labels(), field="sla"), limits_of(await settings(ctx))
        )
    return where


def _sla_where(sla: str, limits: dict, at: datetime | None = None):
    """The orders of one SLA colour (at `at`, default now), as bounds on `status_at` per timed
    status."""
    at = at or now()
    timed = [s for s in S if limits.get(s)]
    parts = []
    for s in timed:
        green, yellow = at - timedelta(minutes=limits[s]["green"]), at - timedelta(minutes=limits[s]["yellow"])
        if sla == Sla.GREEN:
            parts.append((WorkOrder.status == s) & (WorkOrder.status_at >= green))
        elif sla == Sla.YELLOW:
            parts.append((WorkOrder.status == s) & (WorkOrder.status_at < green) & (WorkOrder.status_at >= yellow))
        else:
            parts.append((WorkOrder.status == s) & (WorkOrder.status_at < yellow))
    if sla == Sla.GREEN:
        parts.append(WorkOrder.status.not_in(timed))
    where = parts[0]
    for p in parts[1:]:
        where |= p
    return where


async def search(
    ctx: Ctx, filters: WorkOrderFilters = WorkOrderFilters(), *, params: PageParams = PageParams(), brief: bool = False
) -> Page:
    """Newest first; `sort=urgency`: the unfinished orders, longest in their status (most
    overdue) first. `brief`: what a list page shows (`_brief`), without lines and fault reasons."""
    where = await filter_where(ctx, filters)
    if filters.sort == "urgency":
        where &= WorkOrder.status.not_in([S.CLOSED, S.CANCELLED])
        query = _reading(brief).where(where).order_by(WorkOrder.status_at, WorkOrder.id)
        page = await paginate(query, WorkOrder.count().where(where), params)
    elif filters.sort in ("", "newest"):
        query = _reading(brief).where(where).order_by(WorkOrder.id, ascending=False)
        page = await paginate(query, WorkOrder.count().where(where), params, seek=WorkOrder.id, ascending=False)
    else:
        raise BusinessError("排序方式无效（可选：newest、urgency）", code="invalid_filter", field="sort")
    if brief:
        return page.with_items(_brief(page.items, limits_of(await settings(ctx))))
    return page.with_items(await _as_dicts(ctx, page.items))


async def history(ctx: Ctx, order_id: Any) -> list[dict]:
    """The status timeline: each status, who set it, when, and how long the order stayed in it;
    with the other domains' events (`hooks.timeline_events`, kind ≠ "status") in time order.
    One query: the order's visibility through the join (every order has its intake row)."""
    oid = validate.ident(order_id, "工单", "id")
    rows = (
        await WorkOrderStatusLog.select()
        .where(_log_visible(ctx) & (WorkOrderStatusLog.work_order == oid))
        .order_by(WorkOrderStatusLog.id)
    )
    if not rows:
        raise NotFound("工单")
    return await _timeline(ctx, oid, rows)


def _instant(value: str) -> datetime:
    """A time of a JSON column: PostgreSQL writes its offset, SQLite the text Piccolo stored."""
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))


async def _timeline(ctx: Ctx, oid: int, rows: list[dict]) -> list[dict]:
    """The order's status log rows (in id order) as its timeline, with the other domains' events."""
    at = now()
    out = []
    for i, r in enumerate(rows):
        final = r["to_status"] in (S.CLOSED, S.CANCELLED)
        until = rows[i + 1]["at"] if i + 1 < len(rows) else (None if final else at)
        out.append(
            {
                "from_status": r["from_status"],
                "to_status": r["to_status"],
                "to_label": S(r["to_status"]).label,
                "user_id": r["user_id"],
                "user_name": r["user_name"],
                "at": r["at"],
                "minutes": int((until - r["at"]).total_seconds() // 60) if until else None,
                "kind": "status",
                "note": "",
            }
        )
    events = await hooks.timeline_events(ctx, oid)
    for e in events:
        out.append(
            {
                "from_status": "",
                "to_status": "",
                "to_label": e["label"],
                "user_id": None,
                "user_name": e.get("user_name") or "",
                "at": e["at"],
                "minutes": None,
                "kind": e.get("kind") or "event",
                "note": e.get("note") or "",
            }
        )
    if events:  # stable: a status and an event at one instant keep their order
        out.sort(key=lambda e: e["at"] if e["at"].tzinfo else e["at"].replace(tzinfo=ZoneInfo("UTC")))
    return out


async def device(ctx: Ctx, serial_no: Any, *, brief: bool = False) -> dict:
    """A device's earlier work orders, newest first, and whether a new one is a repeat repair:
    the last closed one closed less than the tenant's `repeat_days` ago. `brief`: the orders as
    a list shows them (`_brief`)."""
    serial = validate.text(serial_no, "序列号", 64, True, field="serial_no")
    rows = (
        await _reading(brief)
        .where(_visible(ctx) & (WorkOrder.serial_no == serial))
        .order_by(WorkOrder.id, ascending=False)
        .limit(50)
    )
    values = await settings(ctx)
    days = values["repeat_days"]
    closed = [r["closed_at"] for r in rows if r["status"] == S.CLOSED and r["closed_at"]]
    last = max(closed) if closed else None
    return {
        "serial_no": serial,
        "repeat_days": days,
        "last_closed_at": last,
        "repeat_repair": bool(last and now() - last < timedelta(days=days)),
        "items": _brief(rows, limits_of(values)) if brief else await _as_dicts(ctx, rows, values),
    }


# --- checks shared by the transitions ---------------------------------------------------------------


def invalid(order: dict, doing: str) -> Conflict:
    return Conflict(f"工单 {order['no']} 当前为「{S(order['status']).label}」，不能{doing}", code="invalid_state")


async def claim(ctx: Ctx, order: dict, allowed: tuple[str, ...], doing: str, values: dict) -> None:
    """Change the order only while its status is one of `allowed`: the UPDATE's WHERE decides,
    so of two concurrent transitions one wins and the other is told the true state."""
    stamp = now()
    assignments = ", ".join('"' + k + '" = {}' for k in [*values, "updated_at"])
    rows = await WorkOrder.raw(
        f'UPDATE "wo_order" SET {assignments} '
        f'WHERE "id" = {{}} AND "tenant_id" = {{}} AND "status" IN ({", ".join("{}" for _ in allowed)}) '
        'RETURNING "id"',
        *values.values(),
        stamp,
        order["id"],
        ctx.tenant_id,
        *allowed,
    )
    if not rows:
        raise invalid(await row_of(ctx, order["id"]), doing)


async def log_move(ctx: Ctx, order: dict, to: str, summary: str, action: str) -> None:
    await WorkOrderStatusLog.insert(
        WorkOrderStatusLog(
            tenant_id=ctx.tenant_id,
            work_order=order["id"],
            from_status=order["status"],
            to_status=to,
            user_id=ctx.user_id,
            user_name=ctx.user_name[:100],
            at=now(),
        )
    )
    await audit.record(ctx, action, "work_order", order["id"], summary, {"status": order["status"]}, {"status": to})
    await hooks.work_order_moved(ctx, order, to)


def emit(ctx: Ctx, order: dict, kind: str, *technicians: Any) -> None:
    """To the org's lists (and the other org's of a sent order) and, on `my_repairs`, to the
    technician's 【我的维修】 (the order's own and any other concerned: the new one of a
    (re)assignment or of a repair start)."""
    realtime.emit(ctx.tenant_id, order["org_path"], "workorders", kind, order["id"])
    if order.get("peer_org_path"):
        realtime.emit(ctx.tenant_id, order["peer_org_path"], "workorders", kind, order["id"])
    if kind not in ("lines", "quote"):  # 【我的维修】 shows neither lines nor quotes
        realtime.emit_users(ctx.tenant_id, (order.get("technician_id"), *technicians), "my_repairs", kind, order["id"])


def _lineage(category: dict) -> list[int]:
    """The product's category and its ancestors: the codes and reasons filed there apply."""
    return [int(p) for p in category["path"].strip("/").split("/") if p]


async def _category_of(ctx: Ctx, order: dict) -> list[int]:
    return _lineage(await trees.get(ctx, TreeKind.CATEGORY, order["category_id"]))


async def _usable_code(ctx: Ctx, kind: str, item_id: Any, lineage: list[int], field: str) -> dict:
    row = await codes.usable(ctx, kind, item_id, field)
    if row["category"] not in lineage:
        label = "维修代码" if kind == "repair_code" else "故障原因"
        raise BusinessError(f"{label} {row['code']} 不属于该产品的品类", code="wrong_category", field=field)
    return row


async def _technician(ctx: Ctx, user_id: Any, org_id: int, field: str = "technician_id") -> int | None:
    """An enabled user of the order's org holding the repair permission, or None for 未派工."""
    if user_id in (None, ""):
        return None
    try:
        user = await users.get(ctx, user_id)
    except NotFound:
        raise BusinessError("所选维修技师不存在", code="unknown_technician", field=field) from None
    held, super_admin = (await roles.holdings([user["id"]]))[user["id"]]
    if user["org_id"] != org_id or not user["enabled"] or user["status"] != "active":
        raise BusinessError(f"{user['name']} 不是本机构的在职用户", code="invalid_technician", field=field)
    if not super_admin and P.REPAIR not in held:
        raise BusinessError(f"{user['name']} 没有维修权限", code="invalid_technician", field=field)
    return user["id"]


def _qty(value: Any, field: str) -> int:
    return validate.integer(1 if value is None else value, "数量", 1, MAX_QTY, field=field)


def _when(value: Any, label: str, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        stamp = value
    else:
        try:
            stamp = datetime.fromisoformat(validate.text(value, label, 40, field=field))
        except ValueError:
            raise BusinessError(f"{label}格式不正确", code="invalid_field", field=field) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


async def _intake_fields(ctx: Ctx, data: dict, v: Fields, *, partial: bool, org_id: int) -> dict:
    """The intake form's own fields (not the customer, not the issued goods)."""
    out: dict = {}
    for f, (label, max_len) in TEXT_FIELDS.items():
        if not partial or f in data:
            out[f] = v(validate.text, data.get(f), label, max_len, field=f)
    for f in DICT_FIELDS:
        if f in data or not partial:
            value = data.get(f)
            if value in (None, ""):
                if f == "service_type":
                    v(validate.text, "", "服务类型", 32, True, field=f)
                out[f] = ""
            else:
                out[f] = await v.awaiting(dictionaries.require_code(ctx, f, value, f))
    if "goods_id" in data and data["goods_id"] not in (None, ""):
        product = await v.awaiting(goods.usable(ctx, data["goods_id"], "goods_id"))
        if product is not None and not product["is_intake_item"]:
            v(_refuse, f"货品 {product['code']} 不是受理产品", "goods_id")
        elif product is not None:
            out["goods_id"], out["category_id"] = product["id"], product["category"]
    elif "category_id" in data and data["category_id"] not in (None, ""):
        node = await v.awaiting(trees.usable(ctx, TreeKind.CATEGORY, data["category_id"], "产品品类", "category_id"))
        if node is not None:
            out["goods_id"], out["category_id"] = None, node["id"]
    elif not partial or "goods_id" in data or "category_id" in data:
        v(_refuse, "请选择产品（受理产品或品类）", "goods_id", "required")
    if not partial or "promised_at" in data:
        out["promised_at"] = v(_when, data.get("promised_at"), "承诺时间", "promised_at")
    if not partial or "technician_id" in data:
        out["technician_id"] = await v.awaiting(_technician(ctx, data.get("technician_id"), org_id))
    return out


def _refuse(detail: str, field: str, code: str = "invalid_field") -> None:
    raise BusinessError(detail, code=code, field=field)


async def _issued_lines(ctx: Ctx, values: Any, v: Fields, org_id: int) -> list[dict]:
    if values in (None, ""):
        return []
    if not isinstance(values, list) or len(values) > MAX_LINES:
        v(_refuse, f"领用货品最多 {MAX_LINES} 行", "issued_lines")
        return []
    out = []
    for i, line in enumerate(values):
        f = f"issued_lines[{i}]."
        if not isinstance(line, dict):
            v(_refuse, f"第 {i + 1} 行领用货品格式不正确", f"issued_lines[{i}]")
            continue
        wh = await v.awaiting(
            warehouses.require_usable(ctx, line.get("warehouse_id"), org_id, field=f + "warehouse_id")
        )
        item = await v.awaiting(goods.usable(ctx, line.get("goods_id"), f + "goods_id"))
        qty = v(_qty, line.get("qty"), f + "qty")
        if wh and item and qty:
            out.append({"warehouse_id": wh["warehouse_id"], "goods_id": item["id"], "qty": qty})
    return out


# --- transitions -----------------------------------------------------------------------------------


async def intake(ctx: Ctx, data: dict) -> dict:
    """【工单受理】: the customer (found by phone, or new), the device, what came with it; saving
    gives the `GD…` number. Issued goods are only listed: they leave stock at completion."""
    v = Fields()
    customer_data = None
    if data.get("customer_id") not in (None, ""):
        customer_id = v(validate.ident, data["customer_id"], "客户", "customer_id")
        if customer_id:
            try:
                customer_data = await customers.get(ctx, customer_id)
            except NotFound:
                v(_refuse, "所选客户不存在", "customer_id")
    else:
        customer_data = await customers.clean(ctx, data.get("customer") or {}, v, prefix="customer.")
    fields = await _intake_fields(ctx, data, v, partial=False, org_id=ctx.org_id)
    issued = await _issued_lines(ctx, data.get("issued_lines"), v, ctx.org_id)
    ticket_id = None
    if data.get("queue_ticket_id") not in (None, ""):
        ticket_id = v(validate.ident, data["queue_ticket_id"], "排队号", "queue_ticket_id")
        if ticket_id:
            try:
                await tickets.get(ctx, ticket_id)
            except NotFound:
                v(_refuse, "所选排队号不存在", "queue_ticket_id")
    v.done()
    if "id" not in customer_data and not fields["customer_type"]:
        fields["customer_type"] = customer_data.get("customer_type", "")
    stamp = now()
    async with atomic():
        if "id" not in customer_data:
            customer_data = await customers.find_or_create(ctx, customer_data)
        no = await numbering.next_number(ctx, "GD")
        row = WorkOrder(
            tenant_id=ctx.tenant_id,
            org_id=ctx.org_id,
            org_path=ctx.org_path,
            intake_org_id=ctx.org_id,
            repair_org_id=ctx.org_id,
            no=no,
            status_token=secrets.token_urlsafe(16),
            status=S.ACCEPTED,
            status_at=stamp,
            customer=customer_data["id"],
            queue_ticket_id=ticket_id,
            created_by=ctx.user_id,
            created_by_name=ctx.user_name[:100],
            created_at=stamp,
            updated_at=stamp,
            **fields,
        )
        await row.save()
        order = {"id": row.id, "no": no, "status": "", "org_path": ctx.org_path, "technician_id": row.technician_id}
        await _replace_issued(ctx, order, issued)
        await log_move(ctx, order, S.ACCEPTED, f"受理工单 {no}", "create")
        await hooks.work_order_taken_in(ctx, order | {"serial_no": fields.get("serial_no", "")}, data)
        emit(ctx, order, "created")
    return await get(ctx, row.id)


async def update(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """Edit the intake data (and the customer) until the repair completes; the product only
    before repair starts (the fault reasons and codes chosen hang on its category).
    `issued_lines`, when given, replace the issued goods as a set, checked as at intake."""
    order = await holding(ctx, order_id)
    if order["status"] not in OPEN:
        raise invalid(order, "修改受理信息")
    v = Fields()
    fields = await _intake_fields(ctx, data, v, partial=True, org_id=order["org_id"])
    if ("goods_id" in fields or "category_id" in fields) and order["status"] != S.ACCEPTED:
        if (fields.get("goods_id"), fields.get("category_id")) != (order["goods_id"], order["category_id"]):
            v(_refuse, "维修已开始，不能再更换产品", "goods_id")
    customer_data = None
    if isinstance(data.get("customer"), dict):
        customer_data = await customers.clean(ctx, data["customer"], v, prefix="customer.")
    issued = None
    if "issued_lines" in data:
        issued = await _issued_lines(ctx, data["issued_lines"], v, order["org_id"])
    v.done()
    async with atomic():
        if customer_data:
            fields["customer"] = (await customers.find_or_create(ctx, customer_data))["id"]
        changed = {k: val for k, val in fields.items() if order.get(k) != val}
        before_issued = await _issued_of(ctx, order["id"])
        reissued = issued is not None and issued != before_issued
        if changed or reissued:
            await claim(ctx, order, OPEN, "修改受理信息", changed)
        if changed:
            before, after = audit.changes(order, order | changed)
            await audit.record(ctx, "update", "work_order", order["id"], f"修改工单 {order['no']}", before, after)
            emit(ctx, order, "updated", changed.get("technician_id"))
        if reissued:
            await _replace_issued(ctx, order, issued)
            await audit.record(
                ctx,
                "update",
                "work_order",
                order["id"],
                f"工单 {order['no']} 修改领用货品",
                {"issued_lines": before_issued},
                {"issued_lines": issued},
            )
            emit(ctx, order, "lines")
    return await get(ctx, order["id"])


async def _issued_of(ctx: Ctx, order_id: int) -> list[dict]:
    rows = (
        await WorkOrderLine.select(WorkOrderLine.warehouse_id, WorkOrderLine.goods_id, WorkOrderLine.qty)
        .where(
            scoped(ctx, WorkOrderLine)
            & (WorkOrderLine.work_order == order_id)
            & (WorkOrderLine.kind == LineKind.ISSUED)
        )
        .order_by(WorkOrderLine.id)
    )
    return [dict(r) for r in rows]


async def _replace_issued(ctx: Ctx, order: dict, issued: list[dict]) -> None:
    """The issued goods as a set: the old lines go, the new ones come (nothing was posted yet:
    they leave stock only at 【维修完毕】)."""
    await WorkOrderLine.delete().where(
        scoped(ctx, WorkOrderLine) & (WorkOrderLine.work_order == order["id"]) & (WorkOrderLine.kind == LineKind.ISSUED)
    )
    stamp = now()
    for line in issued:
        await WorkOrderLine.insert(
            WorkOrderLine(
                tenant_id=ctx.tenant_id, work_order=order["id"], kind=LineKind.ISSUED, created_at=stamp, **line
            )
        )


async def assign(ctx: Ctx, order_id: Any, technician_id: Any) -> dict:
    """Assign or reassign (None: take it back) any time before closing."""
    order = await holding(ctx, order_id)
    v = Fields()
    tid = await v.awaiting(_technician(ctx, technician_id, order["org_id"]))
    v.done()
    async with atomic():
        await claim(ctx, order, (S.ACCEPTED, S.REPAIRING, S.REPAIRED), "派工", {"technician_id": tid})
        await audit.record(
            ctx,
            "assign",
            "work_order",
            order["id"],
            f"工单 {order['no']} 派工",
            {"technician_id": order["technician_id"]},
            {"technician_id": tid},
        )
        emit(ctx, order, "assigned", tid)
    return await get(ctx, order["id"])


async def start_repair(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【直接维修】: the final service type, the fault reasons (of the product's category) and the
    defective-parts warehouse (a 坏品库 of the org); `accepted` → `repairing`. While repairing
    the same call corrects these fields."""
    order = await holding(ctx, order_id)
    if order["status"] not in OPEN:
        raise invalid(order, "维修")
    lineage = await _category_of(ctx, order)
    v = Fields()
    final = await v.awaiting(
        dictionaries.require_code(ctx, "service_type", data.get("final_service_type"), "final_service_type")
    )
    reason_ids = v(validate.id_list, data.get("fault_reason_ids"), "故障原因", "fault_reason_ids", 50) or []
    for rid in reason_ids:
        await v.awaiting(_usable_code(ctx, "fault_reason", rid, lineage, "fault_reason_ids"))
    wid = None
    if data.get("defective_warehouse_id") not in (None, ""):
        wh = await v.awaiting(
            warehouses.require_usable(
                ctx,
                data["defective_warehouse_id"],
                order["org_id"],
                (WarehouseType.DEFECTIVE,),
                "defective_warehouse_id",
            )
        )
        wid = wh["warehouse_id"] if wh else None
    v.done()
    values = {"final_service_type": final, "defective_warehouse_id": wid}
    if order["technician_id"] is None and ctx.user_id is not None:
        values["technician_id"] = ctx.user_id  # whoever starts the repair takes it
    async with atomic():
        if order["status"] == S.ACCEPTED:
            stamp = now()
            await claim(
                ctx,
                order,
                (S.ACCEPTED,),
                "开始维修",
                values | {"status": S.REPAIRING, "status_at": stamp, "repair_started_at": stamp},
            )
            await log_move(ctx, order, S.REPAIRING, f"工单 {order['no']} 开始维修", "start_repair")
        else:
            await claim(ctx, order, (S.REPAIRING,), "维修", values)
        await WorkOrderFaultReason.delete().where(
            scoped(ctx, WorkOrderFaultReason) & (WorkOrderFaultReason.work_order == order["id"])
        )
        for rid in reason_ids:
            await WorkOrderFaultReason.insert(
                WorkOrderFaultReason(tenant_id=ctx.tenant_id, work_order=order["id"], fault_reason_id=rid)
            )
        emit(ctx, order, "status", values.get("technician_id"))
    return await get(ctx, order["id"])


async def _line_fields(ctx: Ctx, order: dict, data: dict) -> dict:
    lineage = await _category_of(ctx, order)
    v = Fields()
    code = await v.awaiting(_usable_code(ctx, "repair_code", data.get("repair_code_id"), lineage, "repair_code_id"))
    item = None
    if data.get("goods_id") not in (None, ""):
        item = await v.awaiting(goods.usable(ctx, data["goods_id"], "goods_id"))
    elif code and code["uses_material"]:
        v(_refuse, f"维修代码 {code['code']} 需要用料，请选择货品", "goods_id", "required")
    wh = None
    if item or data.get("warehouse_id") not in (None, ""):
        wh = await v.awaiting(warehouses.require_usable(ctx, data.get("warehouse_id"), order["org_id"]))
    qty = v(_qty, data.get("qty"), "qty")
    v.done()
    return {
        "repair_code_id": code["id"],
        "goods_id": item["id"] if item else None,
        "warehouse_id": wh["warehouse_id"] if wh else None,
        "qty": qty,
    }


async def _line(ctx: Ctx, order: dict, line_id: Any) -> dict:
    lid = validate.ident(line_id, "维修明细", "line_id")
    row = (
        await WorkOrderLine.select()
        .where(
            scoped(ctx, WorkOrderLine)
            & (WorkOrderLine.work_order == order["id"])
            & (WorkOrderLine.id == lid)
            & (WorkOrderLine.kind == LineKind.REPAIR)
        )
        .first()
    )
    if row is None:
        raise NotFound("维修明细")
    return row


async def add_line(ctx: Ctx, order_id: Any, data: dict) -> dict:
    order = await holding(ctx, order_id)
    if order["status"] != S.REPAIRING:
        raise invalid(order, "添加维修明细")
    values = await _line_fields(ctx, order, data)
    async with atomic():
        await claim(ctx, order, (S.REPAIRING,), "添加维修明细", {})
        count = await WorkOrderLine.count().where(
            scoped(ctx, WorkOrderLine) & (WorkOrderLine.work_order == order["id"])
        )
        if count >= MAX_LINES:
            raise BusinessError(f"一张工单最多 {MAX_LINES} 行明细", code="too_many")
        await WorkOrderLine.insert(
            WorkOrderLine(
                tenant_id=ctx.tenant_id, work_order=order["id"], kind=LineKind.REPAIR, created_at=now(), **values
            )
        )
        await audit.record(ctx, "update", "work_order", order["id"], f"工单 {order['no']} 添加维修明细", None, values)
        emit(ctx, order, "lines")
    return await get(ctx, order["id"])


async def update_line(ctx: Ctx, order_id: Any, line_id: Any, data: dict) -> dict:
    """Only the quantity of a line changes (the manual's 修改); another part is a new line."""
    order = await holding(ctx, order_id)
    line = await _line(ctx, order, line_id)
    if order["status"] != S.REPAIRING:
        raise invalid(order, "修改维修明细")
    v = Fields()
    qty = v(_qty, data.get("qty"), "qty")
    v.done()
    async with atomic():
        await claim(ctx, order, (S.REPAIRING,), "修改维修明细", {})
        await WorkOrderLine.update({WorkOrderLine.qty: qty}).where(
            scoped(ctx, WorkOrderLine) & (WorkOrderLine.id == line["id"])
        )
        await audit.record(
            ctx,
            "update",
            "work_order",
            order["id"],
            f"工单 {order['no']} 修改维修明细",
            {"qty": line["qty"]},
            {"qty": qty},
        )
        emit(ctx, order, "lines")
    return await get(ctx, order["id"])


async def delete_line(ctx: Ctx, order_id: Any, line_id: Any) -> dict:
    order = await holding(ctx, order_id)
    line = await _line(ctx, order, line_id)
    if order["status"] != S.REPAIRING:
        raise invalid(order, "删除维修明细")
    async with atomic():
        await claim(ctx, order, (S.REPAIRING,), "删除维修明细", {})
        await WorkOrderLine.delete().where(scoped(ctx, WorkOrderLine) & (WorkOrderLine.id == line["id"]))
        await audit.record(
            ctx, "update", "work_order", order["id"], f"工单 {order['no']} 删除维修明细", {"line_id": line["id"]}, None
        )
        emit(ctx, order, "lines")
    return await get(ctx, order["id"])


async def complete(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【维修完毕】 as one step: every part and issued goods leaves its warehouse, the replaced
    parts enter the 坏品库, the charges are fixed (each code's labour fee + the org's retail
    price of each goods), `repairing` → `repaired`. A shortage refuses all of it."""
    order = await holding(ctx, order_id)
    if order["status"] != S.REPAIRING:
        raise invalid(order, "维修完毕")
    v = Fields()
    result = await v.awaiting(
        dictionaries.require_code(ctx, "repair_result", data.get("repair_result"), "repair_result")
    )
    v.done()
    stamp = now()
    async with atomic():
        await claim(
            ctx,
            order,
            (S.REPAIRING,),
            "维修完毕",
            {"status": S.REPAIRED, "status_at": stamp, "repaired_at": stamp, "repair_result": result},
        )
        order = await row_of(ctx, order["id"])
        lines = (
            await WorkOrderLine.select()
            .where(scoped(ctx, WorkOrderLine) & (WorkOrderLine.work_order == order["id"]))
            .order_by(WorkOrderLine.id)
        )
        replaced = [ln for ln in lines if ln["kind"] == LineKind.REPAIR and ln["goods_id"]]
        if replaced and order["defective_warehouse_id"] is None:
            raise BusinessError(
                "有更换的配件，请先在维修信息中选择坏品转入库房", code="required", field="defective_warehouse_id"
            )
        if replaced:
            await warehouses.require_usable(
                ctx,
                order["defective_warehouse_id"],
                order["org_id"],
                (WarehouseType.DEFECTIVE,),
                "defective_warehouse_id",
            )
        for wid in sorted({ln["warehouse_id"] for ln in lines if ln["goods_id"]}):
            await _still_usable(ctx, wid, order)
        moves = []
        for ln in lines:
            if ln["goods_id"]:
                moves.append(
                    Move(
                        order["org_id"],
                        ln["warehouse_id"],
                        ln["goods_id"],
                        -ln["qty"],
                        DOC_TYPE,
                        order["id"],
                        order["no"],
                        ln["id"],
                    )
                )
        for ln in replaced:
            moves.append(
                Move(
                    order["org_id"],
                    order["defective_warehouse_id"],
                    ln["goods_id"],
                    ln["qty"],
                    DOC_TYPE,
                    order["id"],
                    order["no"],
                    ln["id"],
                )
            )
        await post_moves(ctx, moves, order["org_path"])
        labor = parts = 0
        for ln, (fee, price) in zip(lines, await line_charges(ctx, order["org_id"], lines), strict=True):
            labor, parts = labor + fee, parts + price * ln["qty"]
            await WorkOrderLine.update({WorkOrderLine.labor_fee: fee, WorkOrderLine.price: price}).where(
                scoped(ctx, WorkOrderLine) & (WorkOrderLine.id == ln["id"])
            )
        await WorkOrder.update({WorkOrder.labor: labor, WorkOrder.parts: parts, WorkOrder.total: labor + parts}).where(
            _visible(ctx) & (WorkOrder.id == order["id"])
        )
        await log_move(ctx, order | {"status": S.REPAIRING}, S.REPAIRED, f"工单 {order['no']} 维修完毕", "complete")
        emit(ctx, order, "status")
    return await get(ctx, order["id"])


async def line_charges(ctx: Ctx, org_id: int, lines: list[dict]) -> list[tuple[int, int]]:
    """Each line's (labour fee, unit price) in ten-thousandths as 【维修完毕】 fixes them: its repair
    code's labour fee and the org's retail price of its goods. A quote prices its lines the same."""
    used = {ln["repair_code_id"] for ln in lines} - {None}
    fees = {k: r["labor_fee"] for k, r in (await codes.by_ids(ctx, "repair_code", used)).items()}
    prices: dict[int, int] = {}
    for ln in lines:
        if ln["goods_id"] and ln["goods_id"] not in prices:
            prices[ln["goods_id"]] = money.to_units((await goods.price_for(ctx, ln["goods_id"], org_id)).retail_price)
    return [(fees.get(ln["repair_code_id"], 0), prices.get(ln["goods_id"], 0)) for ln in lines]


async def _still_usable(ctx: Ctx, warehouse_id: int, order: dict) -> None:
    """A line's warehouse at 【维修完毕】: it may have been disabled, or taken from the org, since
    the line was written; the refusal names it so the technician knows which lines to change."""
    try:
        await warehouses.require_usable(ctx, warehouse_id, order["org_id"])
    except BusinessError as e:
        if e.code != "warehouse_unusable":
            raise
        try:
            row = await warehouses.get(ctx, warehouse_id)
            name = f"{row['code']} {row['name']}"
        except NotFound:
            name = f"#{warehouse_id}"
        raise Conflict(
            f"仓库 {name} 已停用或已不属于本机构，请修改用到它的明细后再维修完毕",
            code="warehouse_unusable",
        ) from None


async def close(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """【结单】: how the device went back (邮寄 needs carrier and tracking number), what the
    customer paid (4 decimals; a payment method unless free), `repaired` → `closed`."""
    order = await holding(ctx, order_id)
    if order["status"] != S.REPAIRED:
        raise invalid(order, "结单")
    if not at_intake(order):
        raise _not_at_intake(order, "结单")
    v = Fields()
    method = await v.awaiting(
        dictionaries.require_code(ctx, "closing_method", data.get("closing_method"), "closing_method")
    )
    mail = method == "mail"
    carrier = v(validate.text, data.get("carrier"), "快递公司", 50, mail, field="carrier") or ""
    tracking = v(validate.text, data.get("tracking_no"), "快递单号", 64, mail, field="tracking_no") or ""
    raw = data.get("amount_received")
    amount = v(_amount, "0" if raw in (None, "") else raw)
    payment = ""
    if amount:
        if data.get("payment_method") in (None, ""):
            v(_refuse, "收费时请选择支付方式", "payment_method", "required")
        else:
            payment = await v.awaiting(
                dictionaries.require_code(ctx, "payment_method", data["payment_method"], "payment_method")
            )
    elif data.get("payment_method") not in (None, ""):
        v(_refuse, "不收费时不填写支付方式", "payment_method")
    remark = v(validate.text, data.get("remark"), "结单备注", 500, field="remark")
    v.done()
    stamp = now()
    values = {
        "status": S.CLOSED,
        "status_at": stamp,
        "closed_at": stamp,
        "closing_method": method,
        "carrier": carrier if mail else "",
        "tracking_no": tracking if mail else "",
        "amount_received": amount,
        "payment_method": payment,
        "closing_remark": remark,
    }
    async with atomic():
        await claim(ctx, order, (S.REPAIRED,), "结单", values)
        await log_move(ctx, order, S.CLOSED, f"工单 {order['no']} 结单", "close")
        emit(ctx, order, "status")
    return await get(ctx, order["id"])


async def rate(ctx: Ctx, order_id: Any, rating: Any) -> dict:
    """The customer's 1–5 for a closed order (from the status page), once: the UPDATE's WHERE
    decides between two at once. When the order came from a queue ticket the kiosk did not get
    rated, the ticket takes the same rating (【排队统计】)."""
    stars = validate.integer(rating, "评分", 1, 5, "rating")
    order = await row_of(ctx, order_id)
    async with atomic():
        changed = (
            await WorkOrder.update({WorkOrder.rating: stars, WorkOrder.rated_at: now()})
            .where(
                scoped(ctx, WorkOrder)
                & (WorkOrder.id == order["id"])
                & (WorkOrder.status == S.CLOSED)
                & WorkOrder.rating.is_null()
            )
            .returning(WorkOrder.id)
        )
        if not changed:
            fresh = await row_of(ctx, order["id"])
            if fresh["rating"] is not None:
                raise Conflict(f"您已评价过（{fresh['rating']} 星），谢谢", code="already_rated")
            raise Conflict("维修结单后才能评价", code="invalid_state")
        if order["queue_ticket_id"]:
            await tickets.rate_from_order(ctx, order["queue_ticket_id"], stars)
        await audit.record(ctx, "rate", "work_order", order["id"], f"工单 {order['no']} 客户评价 {stars} 星")
    return await get(ctx, order["id"])


def _amount(value: Any) -> int:
    try:
        amount = money.parse(value, "实收金额")
    except BusinessError as e:
        raise BusinessError(e.detail, code=e.code, field="amount_received") from None
    if amount < 0:
        raise BusinessError("实收金额不能为负数", code="invalid_money", field="amount_received")
    return money.to_units(amount)


async def cancel(ctx: Ctx, order_id: Any, data: dict) -> dict:
    """Cancel before the repair completes: nothing was posted, so nothing is given back. A sent
    order only where it was taken in (the centre returns the device first)."""
    order = await holding(ctx, order_id)
    if order["status"] not in OPEN:
        raise invalid(order, "取消")
    if not at_intake(order):
        raise _not_at_intake(order, "取消")
    v = Fields()
    reason = v(validate.text, data.get("reason"), "取消原因", 200, True, field="reason")
    v.done()
    stamp = now()
    async with atomic():
        await claim(
            ctx,
            order,
            OPEN,
            "取消",
            {"status": S.CANCELLED, "status_at": stamp, "cancelled_at": stamp, "cancel_reason": reason},
        )
        await log_move(ctx, order, S.CANCELLED, f"取消工单 {order['no']}：{reason}", "cancel")
        emit(ctx, order, "status")
    return await get(ctx, order["id"])


async def technicians(ctx: Ctx, org_id: int) -> list[dict]:
    """The technician select: enabled users of the org holding the repair permission. Made of
    users and roles alone, whose every change moves the tenant's generation: kept in `authcache`
    like the caller's Ctx."""
    key = ("technicians", ctx.tenant_id, ctx.org_path, org_id)
    if (kept := await authcache.get(key)) is not None:
        return [dict(r) for r in kept]
    generation = await authcache.generation(ctx.tenant_id)  # read before the queries: see authcache
    rows = await users.active_of_org(ctx, org_id)
    held = await roles.holdings([r["id"] for r in rows])
    found = [r for r in rows if held[r["id"]][1] or P.REPAIR in held[r["id"]][0]]
    authcache.put(key, ctx.tenant_id, generation, [dict(r) for r in found])
    return found


# What the repair forms' choices read: a write to one of them (by this process) drops them at once.
_CHOICE_TABLES = tuple(t._meta.tablename for t in (TreeNode, RepairCode, FaultReason, Warehouse, OrgWarehouse))


async def choices(ctx: Ctx, order: dict) -> dict:
    """What the order's page offers: repair codes and fault reasons usable for its product's
    category, the org's warehouses (all, and its 坏品库) and its technicians. The codes and
    warehouses are the same for every order of that org and category, and every view of an
    order being repaired asks for them: they are remembered as a list's count is (a write seen at
    once in this process, within seconds in the others)."""
    key = ("workorders.choices", ctx.tenant_id, order["org_id"], order["category_id"])
    offered = await remembered(key, _CHOICE_TABLES, lambda: _offered(ctx, order))
    return offered | {"technicians": await technicians(ctx, order["org_id"])}


async def _offered(ctx: Ctx, order: dict) -> dict:
    lineage = await _category_of(ctx, order)
    offered = {}
    for kind in ("repair_code", "fault_reason"):
        found = await codes.search(ctx, kind, usable_only=True, categories=lineage, params=PageParams(1, 200))
        offered[kind] = found.items
    stores = await warehouses.usable_for_org(ctx, order["org_id"])
    return {
        "repair_codes": offered["repair_code"],
        "fault_reasons": offered["fault_reason"],
        "warehouses": stores,
        "defective_warehouses": [w for w in stores if w["warehouse_type"] == WarehouseType.DEFECTIVE],
    }
