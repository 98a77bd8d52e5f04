"""【额度充值】 and 【额度调整】 (SPEC 3): documents an org issues to its own descendants, on the shared
life cycle of `server.core.documents`: draft → submitted → confirmed (or deleted before
confirmation). What is particular to credit lives here: a line names a descendant org, an amount
and (adjustment) a direction; on submit each decrease line freezes its amount; 【确认】 posts every
line to the ledger once; deleting a submitted adjustment releases its freezes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import realtime
from server.core import documents as life
from server.core import money, validate
from server.core.documents import DocFilters, DocStatus, DocType
from server.core.errors import BusinessError, Forbidden, NotFound
from server.core.pagination import Page, PageParams
from server.core.tenancy import Ctx, scoped
from server.credit import permissions as P
from server.credit.services import ledger
from server.credit.states import Direction
from server.credit.tables import CreditDoc, CreditDocLine
from server.system.services import orgs, tenants

DIRECTIONS = {d.value: d.label for d in Direction}
MAX_LINES = 500


class CreditDocFilters(DocFilters):
    """The document list's filters; `org_id` finds the documents with a line for that org."""

    org_id: str = ""


def _ref(doc: dict, line_id: int | None = None) -> ledger.DocRef:
    return ledger.DocRef(type=doc["kind"], no=doc["no"], id=doc["id"], line_id=line_id)


@dataclass(frozen=True)
class Kind(DocType):
    table = CreditDoc
    line_table = CreditDocLine
    statuses = (DocStatus.DRAFT, DocStatus.SUBMITTED, DocStatus.CONFIRMED, DocStatus.DELETED)
    who = True
    max_lines = MAX_LINES
    resubmitted = "{}已提交"

    async def header(self, ctx: Ctx, data: dict, doc: dict, new: bool) -> dict:
        if new or "remark" in data:
            return {"remark": validate.text(data.get("remark"), "备注", 500, field="remark")}
        return {}

    async def line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None = None) -> dict:
        """A line: a descendant of the issuing org (never the issuer itself, also when an
        ancestor of the issuer edits its draft), an amount > 0, and for an adjustment its direction."""
        org_id = current["org_id"] if current and "org_id" not in data else None
        if org_id is None:
            org_id = await self._receiver(ctx, data.get("org_id"), doc)
        amount = current["amount"] if current and "amount" not in data else ledger.parse_amount(data.get("amount"))
        direction = Direction.INCREASE
        if self.name == "adjustment":
            direction = current["direction"] if current and "direction" not in data else None
            if direction is None:
                direction = validate.choice(data.get("direction"), "调整方向", DIRECTIONS, "direction")
        remark = (
            current["remark"] if current and "remark" not in data else validate.text(data.get("remark"), "备注", 200)
        )
        return {"org_id": org_id, "amount": amount, "direction": direction, "remark": remark}

    async def _receiver(self, ctx: Ctx, value: Any, issuer: dict) -> int:
        org_id = validate.ident(value, "机构", "org_id")
        try:
            org = await orgs.get(ctx, org_id, active_only=True)
        except NotFound:
            org = None
        if org is None or not org["path"].startswith(issuer["org_path"]):
            raise BusinessError("只能为本机构的下级机构充值或调整额度", code="not_descendant", field="org_id")
        if org["id"] == issuer["org_id"] or org["kind"] == "hq":
            raise BusinessError("不能为本机构自己充值或调整额度", code="own_org", field="org_id")
        return org_id

    async def on_submit(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Each decrease line freezes its amount (the whole submit is refused with the shortfall
        when any account's available is short)."""
        for line in lines:
            if line["direction"] == Direction.DECREASE:
                freeze_id = await ledger.freeze(ctx, line["org_id"], line["amount"], _ref(doc, line["id"]))
                await CreditDocLine.update({CreditDocLine.freeze_id: freeze_id}).where(CreditDocLine.id == line["id"])

    async def before_confirm(self, ctx: Ctx, doc: dict) -> None:
        """With `credit_four_eyes` on, the confirmer must not be the submitter."""
        if (await tenants.get_settings(ctx))["credit_four_eyes"] and doc["submitted_by"] == ctx.user_id:
            raise Forbidden("已开启额度双人复核：确认人不能是提交人", code="four_eyes")

    async def post(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        for line in lines:
            ref = _ref(doc, line["id"])
            if self.name == "recharge":
                await ledger.recharge(ctx, line["org_id"], line["amount"], ref, line["remark"])
            else:
                await ledger.adjust(ctx, line["org_id"], line["direction"], line["amount"], ref, line["freeze_id"])

    async def on_delete(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """A submitted adjustment gives its freezes back."""
        for line in lines:
            if line["freeze_id"] is not None:
                await ledger.release(ctx, line["freeze_id"], _ref(doc, line["id"]))

    async def present(self, ctx: Ctx, docs: list[dict], lines: dict[int, list[dict]]) -> list[dict]:
        ids = {d["org_id"] for d in docs} | {li["org_id"] for ls in lines.values() for li in ls}
        names = await orgs.names(ctx, ids)
        return [self._doc_dict(d, lines[d["id"]], names) for d in docs]

    def _doc_dict(self, doc: dict, lines: list[dict], names: dict[int, str]) -> dict:
        return {
            "id": doc["id"],
            "kind": self.name,
            "no": doc["no"],
            "status": doc["status"],
            "status_name": DocStatus(doc["status"]).label,
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


KINDS = {
    "recharge": Kind("recharge", "额度充值单", "CZ", P.RECHARGE, "recharges"),
    "adjustment": Kind("adjustment", "额度调整单", "TZ", P.ADJUSTMENT, "adjustments"),
}
STATUSES = life.labels(Kind.statuses)
for _k in KINDS.values():
    realtime.topic(_k.topic, _k.perms["view"])


async def search(
    ctx: Ctx, kind: str, filters: CreditDocFilters = CreditDocFilters(), *, params: PageParams = PageParams()
) -> Page:
    """Documents issued in the caller's subtree; `org_id` finds those with a line for that org."""
    where = life.list_where(ctx, KINDS[kind], filters)
    if filters.org_id:
        oid = validate.ident(filters.org_id, "机构", "org_id")
        lines = CreditDocLine.select(CreditDocLine.doc).where(
            scoped(ctx, CreditDocLine) & (CreditDocLine.org_id == oid)
        )
        where &= CreditDoc.id.is_in(lines)
    return await life.search(ctx, KINDS[kind], where, params)


async def get(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get(ctx, KINDS[kind], doc_id)


async def get_draft(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    return await life.get_draft(ctx, KINDS[kind], doc_id)


# --- the life cycle (server.core.documents) ------------------------------------------------------


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    return await life.create(ctx, KINDS[kind], data)


async def update(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.update(ctx, KINDS[kind], doc_id, data)


async def add_line(ctx: Ctx, kind: str, doc_id: Any, data: dict) -> dict:
    return await life.add_line(ctx, KINDS[kind], doc_id, data)


async def update_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any, data: dict) -> dict:
    return await life.update_line(ctx, KINDS[kind], doc_id, line_id, data)


async def delete_line(ctx: Ctx, kind: str, doc_id: Any, line_id: Any) -> dict:
    return await life.delete_line(ctx, KINDS[kind], doc_id, line_id)


async def submit(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【提交】: lines are fixed; each decrease line freezes its amount."""
    return await life.submit(ctx, KINDS[kind], doc_id)


async def confirm(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """【确认充值】/【确认调整】: every line posts once (four eyes when the tenant asks)."""
    return await life.confirm(ctx, KINDS[kind], doc_id)


async def delete(ctx: Ctx, kind: str, doc_id: Any) -> dict:
    """A draft or a submitted document can be deleted; a submitted adjustment gives its freezes back."""
    return await life.delete(ctx, KINDS[kind], doc_id)
