"""【额度充值】 and 【额度调整】 (SPEC 3): documents an org issues to its own descendants.

draft → submitted → confirmed (or deleted before confirmation). Lines change only in draft. On
submit each decrease line freezes its amount; 【确认】 posts every line once (the status claim
makes a second confirmation a 409); deleting a submitted adjustment releases its freezes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import realtime
from server.core import audit, money, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.numbering import next_number
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx
from server.credit import permissions as P
from server.credit.services import ledger
from server.credit.tables import CreditDoc, CreditDocLine
from server.system.services import orgs, tenants

STATUSES = {"draft": "暂存", "submitted": "已提交", "confirmed": "已确认", "deleted": "已删除"}
DIRECTIONS = {"increase": "增加", "decrease": "减少"}
MAX_LINES = 500


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    prefix: str
    perms: dict[str, str]
    topic: str


KINDS = {
    "recharge": Kind("recharge", "额度充值单", "CZ", P.RECHARGE, "recharges"),
    "adjustment": Kind("adjustment", "额度调整单", "TZ", P.ADJUSTMENT, "adjustments"),
}
for _k in KINDS.values():
    realtime.topic(_k.topic, _k.perms["view"])


def _line_dict(line: dict, names: dict[int, str]) -> dict:
    return {
        "id": line["id"],
        "org_id": line["org_id"],
        "org_name": names.get(line["org_id"], ""),
        "direction": line["direction"],
        "direction_name": DIRECTIONS[line["direction"]],
        "amount": money.fmt(line["amount"]),
        "remark": line["remark"],
        "frozen": line["freeze_id"] is not None,
    }


def _doc_dict(k: Kind, doc: dict, lines: list[dict], names: dict[int, str]) -> dict:
    return {
        "id": doc["id"],
        "kind": k.name,
        "no": doc["no"],
        "status": doc["status"],
        "status_name": STATUSES[doc["status"]],
        "org_id": doc["org_id"],
        "org_name": names.get(doc["org_id"], ""),
        "remark": doc["remark"],
        "created_by": doc["created_by"],
        "created_by_name": doc["created_by_name"],
        "created_at": doc["created_at"],
        "submitted_by": doc["submitted_by"],
        "submitted_by_name": doc["submitted_by_name"],
        "submitted_at": doc["submitted_at"],
        "confirmed_by": doc["confirmed_by"],
        "confirmed_by_name": doc["confirmed_by_name"],
        "confirmed_at": doc["confirmed_at"],
        "total_amount": money.fmt(sum(li["amount"] for li in lines)),
        "lines": [_line_dict(li, names) for li in lines],
    }


async def _lines_of(doc_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {d: [] for d in doc_ids}
    if doc_ids:
        for row in await CreditDocLine.select().where(CreditDocLine.doc.is_in(doc_ids)).order_by(CreditDocLine.id):
            found[row["doc"]].append(row)
    return found


async def _present(ctx: Ctx, k: Kind, docs: list[dict]) -> list[dict]:
    lines = await _lines_of([d["id"] for d in docs])
    ids = {d["org_id"] for d in docs} | {li["org_id"] for ls in lines.values() for li in ls}
    names = await orgs.names(ctx, ids)
    return [_doc_dict(k, d, lines[d["id"]], names) for d in docs]


def _visible(ctx: Ctx, kind: str):
    return (
        (CreditDoc.tenant_id == ctx.tenant_id) & (CreditDoc.kind == kind) & CreditDoc.org_path.like(f"{ctx.org_path}%")
    )


async def _row(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    did = validate.ident(doc_id, KINDS[kind].label, "id")
    row = await CreditDoc.select().where(_visible(ctx, kind) & (CreditDoc.id == did)).first()
    if row is None or row["status"] == "deleted":
        raise NotFound(KINDS[kind].label)
    return row


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    k = KINDS[kind]
    ctx.require(k.perms["view"])
    return (await _present(ctx, k, [await _row(ctx, kind, doc_id)]))[0]


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A document whose lines may still be edited (opening a line form); the writes check again."""
    doc = await get(ctx, kind, doc_id)
    if doc["status"] != "draft":
        raise Conflict(f"{KINDS[kind].label}已提交，不能修改", code="not_draft")
    return doc


async def search(
    ctx: Ctx, kind: str, *, no: str = "", status: str = "", org_id: Any = None, params: PageParams = PageParams()
) -> Page:
    """Documents issued in the caller's subtree; `org_id` finds those with a line for that org."""
    k = KINDS[kind]
    ctx.require(k.perms["view"])
    where = _visible(ctx, kind)
    no = validate.text(no, "单号", 24)
    if no:
        where &= contains(CreditDoc.no, no)
    if status:
        where &= CreditDoc.status == validate.choice(status, "状态", STATUSES, "status")
    else:
        where &= CreditDoc.status != "deleted"
    if org_id not in (None, ""):
        oid = validate.ident(org_id, "机构", "org_id")
        where &= CreditDoc.id.is_in(CreditDocLine.select(CreditDocLine.doc).where(CreditDocLine.org_id == oid))
    page = await paginate(
        CreditDoc.select().where(where).order_by(CreditDoc.id, ascending=False), CreditDoc.count().where(where), params
    )
    return page.with_items(await _present(ctx, k, page.items))


async def _line(ctx: Ctx, k: Kind, data: dict, issuer: dict, current: dict | None = None) -> dict:
    """A line: a descendant of the issuing org `issuer` (never the issuer itself, also when an
    ancestor of the issuer edits its draft), an amount > 0, and for an adjustment its direction."""
    org_id = current["org_id"] if current and "org_id" not in data else None
    if org_id is None:
        org_id = validate.ident(data.get("org_id"), "机构", "org_id")
        try:
            org = await orgs.get(ctx, org_id, active_only=True)
        except NotFound:
            org = None
        if org is None or not org["path"].startswith(issuer["org_path"]):
            raise BusinessError("只能为本机构的下级机构充值或调整额度", code="not_descendant", field="org_id")
        if org["id"] == issuer["org_id"] or org["kind"] == "hq":
            raise BusinessError("不能为本机构自己充值或调整额度", code="own_org", field="org_id")
    amount = current["amount"] if current and "amount" not in data else ledger.parse_amount(data.get("amount"))
    direction = "increase"
    if k.name == "adjustment":
        direction = current["direction"] if current and "direction" not in data else None
        if direction is None:
            direction = validate.choice(data.get("direction"), "调整方向", DIRECTIONS, "direction")
    remark = current["remark"] if current and "remark" not in data else validate.text(data.get("remark"), "备注", 200)
    return {"org_id": org_id, "amount": amount, "direction": direction, "remark": remark}


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    k = KINDS[kind]
    ctx.require(k.perms["create"])
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > MAX_LINES:
        raise BusinessError(f"明细最多 {MAX_LINES} 行", code="invalid_field", field="lines")
    async with atomic():
        issuer = {"org_id": ctx.org_id, "org_path": ctx.org_path}
        lines = [await _line(ctx, k, li if isinstance(li, dict) else {}, issuer) for li in raw_lines]
        stamp = now()
        doc = CreditDoc(
            tenant_id=ctx.tenant_id,
            kind=kind,
            no=await next_number(ctx, k.prefix),
            org_id=ctx.org_id,
            org_path=ctx.org_path,
            status="draft",
            remark=validate.text(data.get("remark"), "备注", 500, field="remark"),
            created_by=ctx.user_id,
            created_by_name=ctx.user_name,
            created_at=stamp,
            updated_at=stamp,
        )
        await doc.save()
        for line in lines:
            await CreditDocLine.insert(CreditDocLine(tenant_id=ctx.tenant_id, doc=doc.id, created_at=stamp, **line))
        await audit.record(ctx, "create", kind, doc.id, f"新增{k.label} {doc.no}")
        realtime.emit(ctx.tenant_id, ctx.org_path, k.topic, "created", doc.id)
        return await get(ctx, kind, doc.id)


async def _claim(doc: dict, statuses: tuple[str, ...], values: dict | None = None) -> bool:
    """Move the document on only if it is still in `statuses` (its row is locked on PostgreSQL,
    so concurrent submit/confirm/delete see each other's result). One deleted meanwhile is not
    found, as it would have been a moment later, rather than refused for a state it no longer has."""
    rows = (
        await CreditDoc.update({CreditDoc.updated_at: now(), **(values or {})})
        .where((CreditDoc.id == doc["id"]) & CreditDoc.status.is_in(list(statuses)))
        .returning(CreditDoc.id)
    )
    if not rows and await CreditDoc.exists().where((CreditDoc.id == doc["id"]) & (CreditDoc.status == "deleted")):
        raise NotFound(KINDS[doc["kind"]].label)
    return bool(rows)


async def _draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    k = KINDS[kind]
    ctx.require(k.perms["create"])
    doc = await _row(ctx, kind, doc_id)
    if not await _claim(doc, ("draft",)):
        raise Conflict(f"{k.label}已提交，不能修改", code="not_draft")
    return doc


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    async with atomic():
        doc = await _draft(ctx, kind, doc_id)
        if "remark" in data:
            remark = validate.text(data["remark"], "备注", 500, field="remark")
            await CreditDoc.update({CreditDoc.remark: remark}).where(CreditDoc.id == doc["id"])
        return await get(ctx, kind, doc["id"])


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    k = KINDS[kind]
    async with atomic():
        doc = await _draft(ctx, kind, doc_id)
        if len((await _lines_of([doc["id"]]))[doc["id"]]) >= MAX_LINES:
            raise BusinessError(f"明细最多 {MAX_LINES} 行", code="too_many_lines")
        line = await _line(ctx, k, data, doc)
        await CreditDocLine.insert(CreditDocLine(tenant_id=ctx.tenant_id, doc=doc["id"], created_at=now(), **line))
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "updated", doc["id"])
        return await get(ctx, kind, doc["id"])


async def _line_row(doc: dict, line_id: Any) -> dict:
    lid = validate.ident(line_id, "明细", "line_id")
    row = await CreditDocLine.select().where((CreditDocLine.doc == doc["id"]) & (CreditDocLine.id == lid)).first()
    if row is None:
        raise NotFound("明细")
    return row


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    k = KINDS[kind]
    async with atomic():
        doc = await _draft(ctx, kind, doc_id)
        current = await _line_row(doc, line_id)
        line = await _line(ctx, k, data, doc, current)
        await CreditDocLine.update({getattr(CreditDocLine, f): v for f, v in line.items()}).where(
            CreditDocLine.id == current["id"]
        )
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "updated", doc["id"])
        return await get(ctx, kind, doc["id"])


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    k = KINDS[kind]
    async with atomic():
        doc = await _draft(ctx, kind, doc_id)
        current = await _line_row(doc, line_id)
        await CreditDocLine.delete().where(CreditDocLine.id == current["id"])
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "updated", doc["id"])
        return await get(ctx, kind, doc["id"])


def _ref(doc: dict, line_id: int | None = None) -> ledger.DocRef:
    return ledger.DocRef(type=doc["kind"], no=doc["no"], id=doc["id"], line_id=line_id)


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【提交】: lines are fixed; each decrease line freezes its amount (the whole submit is
    refused with the shortfall when any account's available is short)."""
    k = KINDS[kind]
    ctx.require(k.perms["submit"])
    async with atomic():
        doc = await _row(ctx, kind, doc_id)
        stamp = now()
        values = {
            CreditDoc.status: "submitted",
            CreditDoc.submitted_by: ctx.user_id,
            CreditDoc.submitted_by_name: ctx.user_name,
            CreditDoc.submitted_at: stamp,
        }
        if not await _claim(doc, ("draft",), values):
            raise Conflict(f"{k.label}已提交", code="not_draft")
        lines = (await _lines_of([doc["id"]]))[doc["id"]]
        if not lines:
            raise BusinessError("请先添加明细", code="no_lines")
        for line in lines:
            if line["direction"] == "decrease":
                freeze_id = await ledger.freeze(ctx, line["org_id"], line["amount"], _ref(doc, line["id"]))
                await CreditDocLine.update({CreditDocLine.freeze_id: freeze_id}).where(CreditDocLine.id == line["id"])
        await audit.record(ctx, "submit", kind, doc["id"], f"提交{k.label} {doc['no']}")
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "submitted", doc["id"])
        return await get(ctx, kind, doc["id"])


async def confirm(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【确认充值】/【确认调整】: every line posts once; with `credit_four_eyes` on, the confirmer
    must not be the submitter."""
    k = KINDS[kind]
    ctx.require(k.perms["confirm"])
    async with atomic():
        doc = await _row(ctx, kind, doc_id)
        if doc["status"] == "draft":
            raise Conflict(f"{k.label}尚未提交，不能确认", code="not_submitted")
        if (await tenants.get_settings(ctx))["credit_four_eyes"] and doc["submitted_by"] == ctx.user_id:
            raise Forbidden("已开启额度双人复核：确认人不能是提交人", code="four_eyes")
        stamp = now()
        values = {
            CreditDoc.status: "confirmed",
            CreditDoc.confirmed_by: ctx.user_id,
            CreditDoc.confirmed_by_name: ctx.user_name,
            CreditDoc.confirmed_at: stamp,
        }
        if not await _claim(doc, ("submitted",), values):
            raise Conflict(f"{k.label}已确认", code="already_confirmed")
        for line in (await _lines_of([doc["id"]]))[doc["id"]]:
            ref = _ref(doc, line["id"])
            if kind == "recharge":
                await ledger.recharge(ctx, line["org_id"], line["amount"], ref, line["remark"])
            else:
                await ledger.adjust(ctx, line["org_id"], line["direction"], line["amount"], ref, line["freeze_id"])
        await audit.record(ctx, "confirm", kind, doc["id"], f"确认{k.label} {doc['no']}")
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "confirmed", doc["id"])
        return await get(ctx, kind, doc["id"])


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A draft or a submitted document can be deleted; a submitted adjustment gives its freezes back."""
    k = KINDS[kind]
    ctx.require(k.perms["delete"])
    async with atomic():
        doc = await _row(ctx, kind, doc_id)
        if not await _claim(doc, ("draft", "submitted"), {CreditDoc.status: "deleted"}):
            raise Conflict(f"{k.label}已确认，不能删除", code="confirmed")
        for line in (await _lines_of([doc["id"]]))[doc["id"]]:
            if line["freeze_id"] is not None:
                await ledger.release(ctx, line["freeze_id"], _ref(doc, line["id"]))
        await audit.record(ctx, "delete", kind, doc["id"], f"删除{k.label} {doc['no']}")
        realtime.emit(ctx.tenant_id, doc["org_path"], k.topic, "deleted", doc["id"])
        return (await _present(ctx, k, [doc | {"status": "deleted"}]))[0]
