"""The life cycle every business document shares (SPEC 3 and 4; work orders and logistics next):
draft → submitted → (partial →) completed or confirmed, or deleted while nothing is confirmed.

A domain describes a kind of document with a `DocType` subclass (its tables, statuses and the
hooks where it differs: the checks of its header and lines, what confirming posts, what deleting
gives back) and calls the step functions here with it. The steps own what must never drift
between domains: the number is claimed inside the creating transaction, lines change only in
draft, every step first *claims* the document's row with a conditional UPDATE (so concurrent
submit/confirm/delete serialise and see each other's result), a line confirms once, and every
step ends in `transition`, which writes the audit row and queues the live event together.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import realtime
from server.core import audit, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.numbering import next_number
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped


class DocStatus(StrEnum):
    """A document's state. Stock documents confirm line by line (partial → completed); credit
    documents confirm whole (confirmed). StrEnum: it is stored and answered as its string."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PARTIAL = "partial"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DocStatus.DRAFT: "暂存",
    DocStatus.SUBMITTED: "已提交",
    DocStatus.PARTIAL: "部分确认",
    DocStatus.COMPLETED: "已完成",
    DocStatus.CONFIRMED: "已确认",
    DocStatus.DELETED: "已删除",
}
# how the lists colour a state
BADGES = {
    DocStatus.DRAFT: "grey",
    DocStatus.SUBMITTED: "blue",
    DocStatus.PARTIAL: "amber",
    DocStatus.COMPLETED: "green",
    DocStatus.CONFIRMED: "green",
    DocStatus.DELETED: "grey",
}


def labels(statuses: tuple[DocStatus, ...]) -> dict[str, str]:
    """`{status: 中文}` of some states, in order (a list's status filter, `status_name`)."""
    return {s.value: s.label for s in statuses}


class DocFilters(Filters):
    """What every document list filters on; a domain's list subclasses it."""

    no: str = ""
    status: str = ""


@dataclass(frozen=True)
class DocType:
    """One kind of document (入库单, 额度充值单 …). Instances name the kind; a domain's subclass
    says which tables hold it and overrides the hooks below where its rules differ."""

    name: str  # stored in `kind`, and the audit log's entity
    label: str
    prefix: str  # of the number: RK20261124-0001
    perms: dict[str, str]  # action → permission code (routes declare them; pages show actions)
    topic: str  # the live topic its pages listen to

    table: ClassVar[Any]  # columns: tenant_id kind no org_id org_path status created_* updated_at …
    line_table: ClassVar[Any]  # columns: tenant_id doc created_at …
    columns: ClassVar[tuple] = ()  # selected for a document (joins); () is every column
    line_columns: ClassVar[tuple] = ()
    statuses: ClassVar[tuple[DocStatus, ...]]
    by_line: ClassVar[bool] = False  # lines confirm one by one (confirmed_at …): partial, completed
    who: ClassVar[bool] = False  # the table records who submitted and confirmed (submitted_by …)
    max_lines: ClassVar[int] = 500
    resubmitted: ClassVar[str] = "{}已提交，不能修改"  # the answer to submitting twice

    def __post_init__(self) -> None:
        audit.ENTITIES.setdefault(self.name, self.label)  # the log names its entries by kind

    @property
    def status_names(self) -> dict[str, str]:
        return labels(self.statuses)

    def check_new(self, data: dict) -> None:
        """Required header fields of a new document (before anything is read)."""

    async def header(self, ctx: Ctx, data: dict, doc: dict, new: bool) -> dict:
        """The header columns `data` gives, checked (`doc`: the issuing org, or the draft)."""
        return {}

    async def line(self, ctx: Ctx, data: dict, doc: dict, current: dict | None = None) -> dict:
        """A line's columns from `data` (over `current` when editing one), checked."""
        raise NotImplementedError

    async def check_lines(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """A rule over the whole draft as it would become (stock covering an outbound)."""

    async def header_changed(self, ctx: Ctx, doc: dict, fields: dict, lines: list[dict]) -> None:
        """After a draft's header changed (`doc` is the old header, `fields` the new columns)."""

    async def on_submit(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """Checks and effects of 【提交】 (re-checking stock, freezing credit)."""

    async def before_confirm(self, ctx: Ctx, doc: dict) -> None:
        """A rule on who may confirm (four eyes), before the document is claimed."""

    async def post(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """What confirming `lines` does in the domain's ledger; each line comes here once."""
        raise NotImplementedError

    async def on_delete(self, ctx: Ctx, doc: dict, lines: list[dict]) -> None:
        """What deleting gives back (a submitted adjustment's freezes)."""

    async def present(self, ctx: Ctx, docs: list[dict], lines: dict[int, list[dict]]) -> list[dict]:
        """Documents as the API and pages show them."""
        raise NotImplementedError


# --- reading ---------------------------------------------------------------------------------------


def visible(ctx: Ctx, dt: DocType):
    """Documents of this kind issued in the caller's org subtree."""
    return scoped(ctx, dt.table, subtree=dt.table.org_path) & (dt.table.kind == dt.name)


async def lines_of(dt: DocType, doc_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {d: [] for d in doc_ids}
    if doc_ids:
        lt = dt.line_table
        for row in await lt.select(*dt.line_columns).where(lt.doc.is_in(doc_ids)).order_by(lt.id):
            found[row["doc"]].append(row)
    return found


async def _present(ctx: Ctx, dt: DocType, docs: list[dict]) -> list[dict]:
    return await dt.present(ctx, docs, await lines_of(dt, [d["id"] for d in docs]))


async def row(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    """The document's row, if the caller sees it and it is not deleted."""
    did = validate.ident(doc_id, dt.label, "id")
    found = await dt.table.select(*dt.columns).where(visible(ctx, dt) & (dt.table.id == did)).first()
    if found is None or found["status"] == DocStatus.DELETED:
        raise NotFound(dt.label)
    return found


async def get(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    return (await _present(ctx, dt, [await row(ctx, dt, doc_id)]))[0]


async def get_draft(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    """A document whose lines may still be edited (opening a line form); the writes check again."""
    doc = await get(ctx, dt, doc_id)
    if doc["status"] != DocStatus.DRAFT:
        raise Conflict(f"{dt.label}已提交，不能修改", code="not_draft")
    return doc


def list_where(ctx: Ctx, dt: DocType, filters: DocFilters):
    """The filters every list shares: number, status (deleted ones only when asked for)."""
    where = visible(ctx, dt)
    no = validate.text(filters.no, "单号", 24)
    if no:
        where &= contains(dt.table.no, no)
    if filters.status:
        where &= dt.table.status == validate.choice(filters.status, "状态", dt.status_names, "status")
    else:
        where &= dt.table.status != DocStatus.DELETED
    return where


async def search(ctx: Ctx, dt: DocType, where, params: PageParams) -> Page:
    """A page of documents (newest first) under `where` (`list_where` and the domain's own)."""
    page = await paginate(
        dt.table.select(*dt.columns).where(where).order_by(dt.table.id, ascending=False),
        dt.table.count().where(where),
        params,
    )
    return page.with_items(await _present(ctx, dt, page.items))


# --- the steps -----------------------------------------------------------------------------------


async def transition(
    ctx: Ctx, dt: DocType, doc: dict, action: str, event: str, summary: str, after: dict | None = None
) -> None:
    """The end of every step: the audit row and the live event, together (the event is
    published on commit, so a rolled-back step neither logs nor announces anything)."""
    await audit.record(ctx, action, dt.name, doc["id"], summary, None, after)
    realtime.emit(ctx.tenant_id, doc["org_path"], dt.topic, event, doc["id"])


async def claim(dt: DocType, doc: dict, statuses: tuple[DocStatus, ...], values: dict | None = None) -> bool:
    """Move the document on (`values`) only if it is still in one of `statuses`: the UPDATE locks
    its row on PostgreSQL, so a concurrent step waits, then sees the new state (SQLite
    serialises writers anyway). One deleted meanwhile is not found, as it would have been a
    moment later, rather than refused for a state it no longer has."""
    t = dt.table
    rows = (
        await t.update({t.updated_at: now(), **(values or {})})
        .where((t.id == doc["id"]) & t.status.is_in(list(statuses)))
        .returning(t.id)
    )
    if not rows and await t.exists().where((t.id == doc["id"]) & (t.status == DocStatus.DELETED)):
        raise NotFound(dt.label)
    return bool(rows)


async def editable(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    """A draft, claimed for this transaction: its header and lines may change."""
    doc = await row(ctx, dt, doc_id)
    if not await claim(dt, doc, (DocStatus.DRAFT,)):
        raise Conflict(f"{dt.label}已提交，不能修改", code="not_draft")
    return doc


def _stamps(ctx: Ctx, dt: DocType, step: str, status: DocStatus) -> dict:
    t, stamp = dt.table, now()
    values = {t.status: status, getattr(t, f"{step}_at"): stamp}
    if dt.who:
        values |= {getattr(t, f"{step}_by"): ctx.user_id, getattr(t, f"{step}_by_name"): ctx.user_name}
    return values


async def create(ctx: Ctx, dt: DocType, data: dict) -> dict:
    """A draft in the caller's own org, with a fresh number and any lines given."""
    dt.check_new(data)
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > dt.max_lines:
        raise BusinessError(f"明细最多 {dt.max_lines} 行", code="invalid_field", field="lines")
    async with atomic():
        issuer = {"org_id": ctx.org_id, "org_path": ctx.org_path}
        fields = await dt.header(ctx, data, issuer, True)
        lines = [await dt.line(ctx, li if isinstance(li, dict) else {}, issuer | fields) for li in raw_lines]
        stamp = now()
        record = dt.table(
            tenant_id=ctx.tenant_id,
            kind=dt.name,
            no=await next_number(ctx, dt.prefix),
            status=DocStatus.DRAFT,
            created_by=ctx.user_id,
            created_by_name=ctx.user_name,
            created_at=stamp,
            updated_at=stamp,
            **issuer,
            **fields,
        )
        await record.save()
        doc = issuer | fields | {"id": record.id, "no": record.no}
        await dt.check_lines(ctx, doc, lines)
        for line in lines:
            await dt.line_table.insert(dt.line_table(tenant_id=ctx.tenant_id, doc=record.id, created_at=stamp, **line))
        await transition(ctx, dt, doc, "create", "created", f"新增{dt.label} {record.no}")
        return await get(ctx, dt, record.id)


async def update(ctx: Ctx, dt: DocType, doc_id: Any, data: dict) -> dict:
    """A draft's header."""
    async with atomic():
        doc = await editable(ctx, dt, doc_id)
        fields = await dt.header(ctx, data, doc, False)
        if fields:
            t = dt.table
            await t.update({getattr(t, f): v for f, v in fields.items()}).where(t.id == doc["id"])
            await dt.header_changed(ctx, doc, fields, (await lines_of(dt, [doc["id"]]))[doc["id"]])
        await transition(ctx, dt, doc, "update", "updated", f"修改{dt.label} {doc['no']}", fields)
        return await get(ctx, dt, doc["id"])


async def add_line(ctx: Ctx, dt: DocType, doc_id: Any, data: dict) -> dict:
    async with atomic():
        doc = await editable(ctx, dt, doc_id)
        lines = (await lines_of(dt, [doc["id"]]))[doc["id"]]
        if len(lines) >= dt.max_lines:
            raise BusinessError(f"明细最多 {dt.max_lines} 行", code="too_many_lines")
        line = await dt.line(ctx, data, doc)
        await dt.check_lines(ctx, doc, [*lines, line])
        lt = dt.line_table
        await lt.insert(lt(tenant_id=ctx.tenant_id, doc=doc["id"], created_at=now(), **line))
        await transition(ctx, dt, doc, "update", "updated", f"添加明细 {dt.label} {doc['no']}", line)
        return await get(ctx, dt, doc["id"])


async def _line_row(dt: DocType, doc: dict, line_id: Any) -> dict:
    lid = validate.ident(line_id, "明细", "line_id")
    lt = dt.line_table
    found = await lt.select(*dt.line_columns).where((lt.doc == doc["id"]) & (lt.id == lid)).first()
    if found is None:
        raise NotFound("明细")
    return found


async def update_line(ctx: Ctx, dt: DocType, doc_id: Any, line_id: Any, data: dict) -> dict:
    async with atomic():
        doc = await editable(ctx, dt, doc_id)
        current = await _line_row(dt, doc, line_id)
        line = await dt.line(ctx, data, doc, current)
        others = [li for li in (await lines_of(dt, [doc["id"]]))[doc["id"]] if li["id"] != current["id"]]
        await dt.check_lines(ctx, doc, [*others, line])
        lt = dt.line_table
        await lt.update({getattr(lt, f): v for f, v in line.items()}).where(lt.id == current["id"])
        summary = f"修改明细 {dt.label} {doc['no']}"
        await transition(ctx, dt, doc, "update", "updated", summary, line | {"line_id": current["id"]})
        return await get(ctx, dt, doc["id"])


async def delete_line(ctx: Ctx, dt: DocType, doc_id: Any, line_id: Any) -> dict:
    async with atomic():
        doc = await editable(ctx, dt, doc_id)
        current = await _line_row(dt, doc, line_id)
        await dt.line_table.delete().where(dt.line_table.id == current["id"])
        summary = f"删除明细 {dt.label} {doc['no']}"
        await transition(ctx, dt, doc, "update", "updated", summary, {"line_ids": [current["id"]]})
        return await get(ctx, dt, doc["id"])


async def delete_lines(ctx: Ctx, dt: DocType, doc_id: Any, line_ids: Any) -> dict:
    """【删除】 of the lines ticked on the page: all of them or, when one is gone, none."""
    wanted = sorted(set(validate.id_list(line_ids, "明细", "line_ids", max_items=dt.max_lines)))
    if not wanted:
        raise BusinessError("请勾选要删除的明细", code="required", field="line_ids")
    async with atomic():
        doc = await editable(ctx, dt, doc_id)
        lt = dt.line_table
        where = (lt.doc == doc["id"]) & lt.id.is_in(wanted)
        if await lt.count().where(where) != len(wanted):
            raise NotFound("明细")
        await lt.delete().where(where)
        summary = f"删除明细 {dt.label} {doc['no']}（{len(wanted)} 行）"
        await transition(ctx, dt, doc, "update", "updated", summary, {"line_ids": wanted})
        return await get(ctx, dt, doc["id"])


async def submit(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    """【提交】: the lines are fixed; the domain checks them again and may act (freeze credit)."""
    async with atomic():
        doc = await row(ctx, dt, doc_id)
        if not await claim(dt, doc, (DocStatus.DRAFT,), _stamps(ctx, dt, "submitted", DocStatus.SUBMITTED)):
            raise Conflict(dt.resubmitted.format(dt.label), code="not_draft")
        lines = (await lines_of(dt, [doc["id"]]))[doc["id"]]
        if not lines:
            raise BusinessError("请先添加明细", code="no_lines")
        await dt.on_submit(ctx, doc, lines)
        await transition(ctx, dt, doc, "submit", "submitted", f"提交{dt.label} {doc['no']}")
        return await get(ctx, dt, doc["id"])


async def confirm(ctx: Ctx, dt: DocType, doc_id: Any, line_ids: Any = None) -> dict:
    """【确认】: the domain posts each line once. A `by_line` document confirms the ticked lines
    (every unconfirmed one when none are named) and may stay partial; a line confirmed already
    answers 409 `already_confirmed` and nothing of the call is posted. Any other document
    confirms whole, once."""
    async with atomic():
        doc = await row(ctx, dt, doc_id)
        if doc["status"] == DocStatus.DRAFT:
            raise Conflict(f"{dt.label}尚未提交，不能确认", code="not_submitted")
        await dt.before_confirm(ctx, doc)
        if not dt.by_line:
            if not await claim(dt, doc, (DocStatus.SUBMITTED,), _stamps(ctx, dt, "confirmed", DocStatus.CONFIRMED)):
                raise Conflict(f"{dt.label}已确认", code="already_confirmed")
            await dt.post(ctx, doc, (await lines_of(dt, [doc["id"]]))[doc["id"]])
            await transition(ctx, dt, doc, "confirm", "confirmed", f"确认{dt.label} {doc['no']}")
            return await get(ctx, dt, doc["id"])
        if not await claim(dt, doc, (DocStatus.SUBMITTED, DocStatus.PARTIAL)):
            raise Conflict(f"{dt.label}已全部确认", code="already_confirmed")
        ticked = await _tick(ctx, dt, doc, line_ids)
        await dt.post(ctx, doc, ticked)
        await _settle(dt, doc)
        summary = f"确认{dt.label} {doc['no']}（{len(ticked)} 行）"
        await transition(ctx, dt, doc, "confirm", "confirmed", summary, {"line_ids": [li["id"] for li in ticked]})
        return await get(ctx, dt, doc["id"])


async def _tick(ctx: Ctx, dt: DocType, doc: dict, line_ids: Any) -> list[dict]:
    """Mark the wanted lines confirmed, each by a conditional UPDATE so that it posts once."""
    lines = (await lines_of(dt, [doc["id"]]))[doc["id"]]
    if line_ids is None:
        wanted = [li["id"] for li in lines if li["confirmed_at"] is None]
        if not wanted:
            raise Conflict(f"{dt.label}已全部确认", code="already_confirmed")
    else:
        wanted = validate.id_list(line_ids, "明细", "line_ids", max_items=dt.max_lines)
        if not wanted:
            raise BusinessError("请勾选要确认的明细", code="required", field="line_ids")
    by_id = {li["id"]: li for li in lines}
    if any(i not in by_id for i in wanted):
        raise NotFound("明细")
    lt = dt.line_table
    claimed = (
        await lt.update({lt.confirmed_at: now(), lt.confirmed_by: ctx.user_id, lt.confirmed_by_name: ctx.user_name})
        .where(lt.id.is_in(wanted) & lt.confirmed_at.is_null())
        .returning(lt.id)
    )
    if len(claimed) != len(set(wanted)):
        done = sorted(set(wanted) - {c["id"] for c in claimed})
        codes = "、".join(by_id[i]["goods_code"] for i in done)
        raise Conflict(f"明细已确认过，不能重复确认：{codes}", code="already_confirmed")
    return [by_id[i] for i in sorted(set(wanted))]


async def _settle(dt: DocType, doc: dict) -> None:
    """After a line confirmation: partial while a line is unconfirmed, else completed."""
    t, lt, stamp = dt.table, dt.line_table, now()
    remaining = await lt.count().where((lt.doc == doc["id"]) & lt.confirmed_at.is_null())
    status = DocStatus.PARTIAL if remaining else DocStatus.COMPLETED
    await t.update({t.status: status, t.updated_at: stamp, t.completed_at: None if remaining else stamp}).where(
        t.id == doc["id"]
    )


async def delete(ctx: Ctx, dt: DocType, doc_id: Any) -> dict:
    """A draft, or a submitted document nothing of which is confirmed, can be deleted."""
    async with atomic():
        doc = await row(ctx, dt, doc_id)
        if not await claim(dt, doc, (DocStatus.DRAFT, DocStatus.SUBMITTED), {dt.table.status: DocStatus.DELETED}):
            raise Conflict(f"{dt.label}已确认，不能删除", code="confirmed")
        await dt.on_delete(ctx, doc, (await lines_of(dt, [doc["id"]]))[doc["id"]])
        await transition(ctx, dt, doc, "delete", "deleted", f"删除{dt.label} {doc['no']}")
        return (await _present(ctx, dt, [doc | {"status": DocStatus.DELETED}]))[0]
