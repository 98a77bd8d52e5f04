"""Receipt discrepancies 【收货差异】 (SPEC 4.3): recorded per line by the receiver at
【确认收货】 (services.shipments.receive), read by both sides, resolved by the shipper.

A short's units stay in transit, held, until the shipper answers: 找到补发 releases them (the
line can be received again for what is left), 确认丢失 writes them off as lost — the row is the
loss record, its resolver the one who approved it, and no stock returns anywhere (on hand + in
transit + lost = shipped). An over or a damage is only acknowledged: the extra never entered
stock, the damaged units are already in the receiver's 坏品库."""

from __future__ import annotations

from typing import Any

from server.core import audit, uploads, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, NotFound
from server.core.pagination import Page, PageParams, paginate
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.logistics import permissions as P
from server.logistics.services import shipments
from server.logistics.services.shipments import DISCREPANCY_COLUMNS, PHOTO_OWNER, SD, discrepancy_dicts
from server.logistics.states import RESOLUTIONS, DiscrepancyKind, DiscrepancyStatus, Resolution
from server.logistics.tables import ShipmentDiscrepancy, ShipmentLine
from server.system.services import orgs

ENTITY = "shipment_discrepancy"
audit.ENTITIES.setdefault(ENTITY, "收货差异")
audit.ACTIONS.setdefault("resolve", "处理")
audit.ACTIONS.setdefault("add_photos", "上传照片")
MAX_PHOTOS = 6  # per discrepancy
# whoever reads a discrepancy somewhere (its list, the shipment, the receipt) sees its photos
PHOTO_READERS = (P.DISCREPANCY["view"], P.SHIPMENT["view"], P.RECEIVING["view"])
SIDES = {"": "全部", "out": "发货方", "in": "收货方"}


class DiscrepancyFilters(Filters):
    """【收货差异】 and the API's filters: state, kind, shipment number, the other org, and the
    caller's side (`out`: as shipper, `in`: as receiver)."""

    status: str = ""
    kind: str = ""
    no: str = ""
    org_id: str = ""
    side: str = ""


def _readable(ctx: Ctx, side: str = ""):
    shipped = scoped(ctx, ShipmentDiscrepancy, subtree=SD.org_path)
    received = scoped(ctx, ShipmentDiscrepancy, subtree=SD.to_org_path)
    return {"out": shipped, "in": received}.get(side, shipped | received)


def filter_where(ctx: Ctx, filters: DiscrepancyFilters):
    where = _readable(ctx, validate.choice(filters.side, "方向", SIDES, "side"))
    if filters.status:
        where &= SD.status == validate.choice(filters.status, "状态", DiscrepancyStatus.labels(), "status")
    if filters.kind:
        where &= SD.kind == validate.choice(filters.kind, "差异类型", DiscrepancyKind.labels(), "kind")
    no = validate.text(filters.no, "单号", 24)
    if no:
        where &= contains(SD.shipment.no, no)
    if filters.org_id:
        org_id = validate.ident(filters.org_id, "机构", "org_id")
        where &= (SD.org_id == org_id) | (SD.to_org_id == org_id)
    return where


async def _present(ctx: Ctx, rows: list[dict]) -> list[dict]:
    names = await orgs.names(ctx, {r["org_id"] for r in rows} | {r["to_org_id"] for r in rows})
    return await discrepancy_dicts(rows, names)


async def search(
    ctx: Ctx, filters: DiscrepancyFilters = DiscrepancyFilters(), *, params: PageParams = PageParams()
) -> Page:
    """Open ones first, then newest first."""
    where = filter_where(ctx, filters)
    page = await paginate(
        SD.select(*DISCREPANCY_COLUMNS).where(where).order_by(SD.status).order_by(SD.id, ascending=False),
        SD.count().where(where),
        params,
    )
    return page.with_items(await _present(ctx, page.items))


async def open_count(ctx: Ctx) -> int:
    """What waits for the caller's own org as shipper."""
    return await SD.count().where(
        scoped(ctx, SD, subtree=SD.org_path) & (SD.org_id == ctx.org_id) & (SD.status == DiscrepancyStatus.OPEN)
    )


async def _row(ctx: Ctx, discrepancy_id: Any) -> dict:
    did = validate.ident(discrepancy_id, "收货差异", "id")
    found = await SD.select(*DISCREPANCY_COLUMNS).where(_readable(ctx) & (SD.id == did)).first()
    if found is None:
        raise NotFound("收货差异")
    return found


async def get(ctx: Ctx, discrepancy_id: Any) -> dict:
    return (await _present(ctx, [await _row(ctx, discrepancy_id)]))[0]


async def resolve(ctx: Ctx, discrepancy_id: Any, data: dict) -> dict:
    """The shipper's answer, once (409 `invalid_state` for the second): a short found and re-sent
    goes back to what the receiver may receive, a short lost leaves transit for good."""
    async with atomic():
        row = await _row(ctx, discrepancy_id)
        if row["org_id"] != ctx.org_id:
            raise Forbidden("只有发货机构可以处理收货差异", code="not_shipper")
        kind = DiscrepancyKind(row["kind"])
        allowed = RESOLUTIONS[kind]
        resolution = Resolution(validate.choice(data.get("resolution"), "处理方式", Resolution.labels(), "resolution"))
        if resolution not in allowed:
            names = "或".join(r.label for r in allowed)
            raise BusinessError(f"{kind.label}差异只能{names}", code="invalid_field", field="resolution")
        remark = validate.text(data.get("remark"), "处理说明", 200, field="remark")
        claimed = (
            await SD.update(
                {
                    SD.status: DiscrepancyStatus.RESOLVED,
                    SD.resolution: resolution,
                    SD.remark: remark,
                    SD.resolved_by: ctx.user_id,
                    SD.resolved_by_name: ctx.user_name,
                    SD.resolved_at: now(),
                }
            )
            .where((SD.id == row["id"]) & (SD.status == DiscrepancyStatus.OPEN))
            .returning(SD.id)
        )
        if not claimed:
            raise Conflict("收货差异已处理，不能重复处理", code="invalid_state")
        if kind == DiscrepancyKind.SHORT:
            await _release(row, resolution == Resolution.LOST)
            await shipments.settle(row["shipment"])
        doc = {"id": row["shipment"], "org_path": row["org_path"], "to_org_path": row["to_org_path"]}
        shipments.tell_both(ctx, doc, "discrepancy")
        summary = f"{resolution.label} {row['shipment_no']} {row['goods_code']} {kind.label} {row['qty']}"
        after = {"resolution": resolution.value, "remark": remark, "qty": row["qty"]}
        await audit.record(ctx, "resolve", ENTITY, row["id"], summary, None, after)
        return await get(ctx, row["id"])


async def _release(row: dict, lost: bool) -> None:
    """The held units of a short: back to receivable, or lost (the line then done when nothing
    else is in transit)."""
    lt = ShipmentLine
    line = await lt.select(lt.qty, lt.received_qty, lt.held_qty, lt.lost_qty).where(lt.id == row["line"]).first()
    lost_qty = line["lost_qty"] + (row["qty"] if lost else 0)
    values: dict = {lt.held_qty: line["held_qty"] - row["qty"], lt.lost_qty: lost_qty}
    if line["received_qty"] + lost_qty == line["qty"]:
        values[lt.received_at] = now()
    changed = (
        await lt.update(values)
        .where((lt.id == row["line"]) & (lt.held_qty == line["held_qty"]) & (lt.lost_qty == line["lost_qty"]))
        .returning(lt.id)
    )
    if not changed:
        raise Conflict("明细正在被处理，请刷新后重试", code="invalid_state")


def _may_add_photos(ctx: Ctx, row: dict) -> None:
    if row["to_org_id"] != ctx.org_id:
        raise Forbidden("只有收货机构可以上传收货差异的照片", code="not_receiver")
    if row["status"] != DiscrepancyStatus.OPEN:
        raise Conflict("收货差异已处理，不能再上传照片", code="invalid_state")


async def add_photos(ctx: Ctx, discrepancy_id: Any, files: list) -> dict:
    """The receiver's photos of what it recorded (a damaged box, what a short box held), while the
    discrepancy is open: at most `MAX_PHOTOS` in all, each an image by its bytes (core.uploads);
    all of a request's files or none. The files are read and checked before the transaction."""
    files = [f for f in files if f is not None and f != ""]
    if not files:
        raise BusinessError("请选择要上传的照片", code="no_file", field="file")
    _may_add_photos(ctx, await _row(ctx, discrepancy_id))  # 404 / 403 / 409 before reading any file
    ready = [await uploads.prepare(f) for f in files]
    async with atomic():
        row = await _row(ctx, discrepancy_id)
        _may_add_photos(ctx, row)
        # one request at a time per discrepancy: the count below is then the count at commit
        claimed = (
            await SD.update({SD.status: SD.status})
            .where((SD.id == row["id"]) & (SD.status == DiscrepancyStatus.OPEN))
            .returning(SD.id)
        )
        if not claimed:
            raise Conflict("收货差异已处理，不能再上传照片", code="invalid_state")
        had = await uploads.count_of(ctx, PHOTO_OWNER, row["id"])
        if had + len(ready) > MAX_PHOTOS:
            left = max(MAX_PHOTOS - had, 0)
            raise BusinessError(
                f"每条收货差异最多 {MAX_PHOTOS} 张照片，已有 {had} 张，还可上传 {left} 张", code="too_many_photos"
            )
        stored = [await uploads.save(ctx, r, owner=PHOTO_OWNER, owner_id=row["id"]) for r in ready]
        doc = {"id": row["shipment"], "org_path": row["org_path"], "to_org_path": row["to_org_path"]}
        shipments.tell_both(ctx, doc, "discrepancy")
        kind = DiscrepancyKind(row["kind"]).label
        summary = f"{row['shipment_no']} {row['goods_code']} {kind}：照片 {len(stored)} 张"
        after = {"photos": [{"id": p["id"], "sha256": p["sha256"], "size": p["size"]} for p in stored]}
        await audit.record(ctx, "add_photos", ENTITY, row["id"], summary, None, after)
        return await get(ctx, row["id"])


@uploads.readable(PHOTO_OWNER, perm=PHOTO_READERS)
async def _photo_readable(ctx: Ctx, discrepancy_id: int) -> bool:
    return await SD.exists().where(_readable(ctx) & (SD.id == discrepancy_id))
