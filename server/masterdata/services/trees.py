"""The three trees of SPEC 2.1–2.2: categories, repair classes and fault classes.

One table holds all three (`kind`). Deleting a node deletes its whole subtree, so a node is
usable exactly when its status is active: pickers and saves need no ancestor walk.
"""

from __future__ import annotations

from typing import Any

import realtime
from server.core import audit, hooks, validate
from server.core.api import Filters
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, NotFound
from server.core.hooks import Usage
from server.core.pagination import remembered
from server.core.search import contains
from server.core.tenancy import Ctx, scoped
from server.masterdata import permissions as P
from server.masterdata.services.common import HQ_ONLY, STATUSES
from server.masterdata.states import Status, TreeKind
from server.masterdata.tables import FaultReason, Goods, RepairCode, TreeNode

KINDS = TreeKind.labels()
MAX_DEPTH = 8


class TreeFilters(Filters):
    """A tree's list and export: `status` "" for every node, deleted ones too."""

    q: str = ""
    status: str = ""


for _kind in KINDS:
    realtime.topic(_kind, P.TREE[_kind]["view"], tenant_wide=True)


def child_path(parent_path: str, node_id: int) -> str:
    return f"{parent_path}{node_id:010d}/"


def as_dict(node: dict) -> dict:
    return {
        "id": node["id"],
        "kind": node["kind"],
        "parent_id": node["parent"],
        "name": node["name"],
        "depth": node["depth"],
        "sort": node["sort"],
        "status": node["status"],
    }


def _kind(kind: str) -> str:
    return validate.choice(kind, "树类型", KINDS, "kind")


async def get(ctx: Ctx, kind: str, node_id: Any) -> dict:
    nid = validate.ident(node_id, KINDS[_kind(kind)], "id")
    row = await TreeNode.select().where(scoped(ctx, TreeNode) & (TreeNode.kind == kind) & (TreeNode.id == nid)).first()
    if row is None:
        raise NotFound(KINDS[kind])
    return row


async def usable(ctx: Ctx, kind: str, node_id: Any, label: str | None = None, field: str | None = None) -> dict:
    """A node that may be chosen on a save: exists in this tenant's tree and is not deleted."""
    label = label or KINDS[kind]
    await hooks.hold(TreeNode, [validate.ident(node_id, label, field)])  # a delete under way ends first
    try:
        node = await get(ctx, kind, node_id)
    except NotFound:
        raise BusinessError(f"所选{label}不存在", code="unknown_node", field=field) from None
    if node["status"] != Status.ACTIVE:
        raise BusinessError(f"所选{label}已删除（或其上级已删除），不能使用", code="node_deleted", field=field)
    return node


async def listing(ctx: Ctx, kind: str, *, include_deleted: bool = False, q: str = "") -> list[dict]:
    """The whole tree in path order (parents before children), for the tree page and pickers."""
    where = scoped(ctx, TreeNode) & (TreeNode.kind == _kind(kind))
    if not include_deleted:
        where &= TreeNode.status == Status.ACTIVE
    q = validate.text(q, "关键字", 50)
    if q:
        where &= contains(TreeNode.name, q)
    return await TreeNode.select().where(where).order_by(TreeNode.path)


def paths(nodes: list[dict], sep: str = " / ") -> dict[int, str]:
    """Full path labels ("Apple / iPhone / iPhone 15") of nodes listed parents first."""
    labels: dict[int, str] = {}
    for node in nodes:
        parent = labels.get(node["parent"])
        labels[node["id"]] = f"{parent}{sep}{node['name']}" if parent else node["name"]
    return labels


async def path_labels(ctx: Ctx, kind: str) -> dict[int, str]:
    """Full path labels of every node, deleted ones too (searches and exports show where a node sits)."""
    return paths(await listing(ctx, kind, include_deleted=True))


async def paths_of(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    """Full names ("Apple / iPhone / iPhone 15") of tree nodes: one query walking up the parents
    of a whole page of rows instead of a walk per row, kept as a count is (a page's categories
    are read by everyone who opens it; a tree write of this process drops them). Shared: not to
    be changed by the caller."""
    if not ids:
        return {}
    key = ("tree_paths", ctx.tenant_id, frozenset(ids))
    return await remembered(key, (TreeNode._meta.tablename,), lambda: _walk_up(ctx, ids))


async def _walk_up(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    marks = ", ".join(["{}"] * len(ids))
    rows = await TreeNode.raw(
        "WITH RECURSIVE up(node, parent, name, depth) AS ("
        f'SELECT "id", "parent", "name", "depth" FROM "md_tree_node" WHERE "tenant_id" = {{}} AND "id" IN ({marks}) '
        'UNION ALL SELECT up.node, t."parent", t."name", t."depth" FROM "md_tree_node" t JOIN up ON t."id" = up.parent'
        ") SELECT node, name FROM up ORDER BY node, depth",
        ctx.tenant_id,
        *ids,
    )
    names: dict[int, list[str]] = {}
    for r in rows:
        names.setdefault(r["node"], []).append(r["name"])
    return {node: " / ".join(chain) for node, chain in names.items()}


async def choices(ctx: Ctx, kind: str, q: str = "", limit: int = 50) -> tuple[list[dict], bool]:
    """The tree picker: the first `limit` usable nodes whose full path matches `q`, as
    `{id, label, depth}`, and whether more matched. Usable nodes have only usable ancestors."""
    q = validate.text(q, "关键字", 50).lower()
    nodes = await listing(ctx, kind)
    labels = paths(nodes)
    found = [
        {"id": n["id"], "label": labels[n["id"]], "depth": n["depth"]}
        for n in nodes
        if not q or q in labels[n["id"]].lower()
    ]
    return found[:limit], len(found) > limit


EXPORT_HEADERS = ("名称", "完整路径", "层级", "状态")


async def search(ctx: Ctx, kind: str, filters: TreeFilters) -> list[dict]:
    """The tree as the API lists it, parents first: `status` "" for every node."""
    nodes = await listing(ctx, kind, include_deleted=filters.status != Status.ACTIVE, q=filters.q)
    return [n for n in nodes if not filters.status or n["status"] == filters.status]


async def export_rows(ctx: Ctx, kind: str, filters: TreeFilters = TreeFilters(status=Status.ACTIVE)) -> list[list]:
    """The tree as listed, each node with its full path, for the Excel export."""
    _kind(kind)
    if filters.status:
        validate.choice(filters.status, "状态", STATUSES, "status")
    labels = await path_labels(ctx, kind)
    return [[n["name"], labels[n["id"]], n["depth"], STATUSES[n["status"]]] for n in await search(ctx, kind, filters)]


async def subtree_ids(ctx: Ctx, kind: str, node_id: Any) -> list[int]:
    """Ids of a node and its descendants (filters "in this category")."""
    node = await get(ctx, kind, node_id)
    rows = await TreeNode.select(TreeNode.id).where(
        scoped(ctx, TreeNode) & (TreeNode.kind == kind) & TreeNode.path.like(f"{node['path']}%")
    )
    return [r["id"] for r in rows]


async def _name_taken(ctx: Ctx, kind: str, parent_id: int | None, name: str, exclude: int | None = None) -> bool:
    where = (
        scoped(ctx, TreeNode) & (TreeNode.kind == kind) & (TreeNode.name == name) & (TreeNode.status == Status.ACTIVE)
    )
    where &= TreeNode.parent.is_null() if parent_id is None else TreeNode.parent == parent_id
    if exclude:
        where &= TreeNode.id != exclude
    return await TreeNode.exists().where(where)


async def create(ctx: Ctx, kind: str, data: dict) -> dict:
    kind = _kind(kind)
    ctx.require_hq(HQ_ONLY)
    name = validate.text(data.get("name"), "名称", 100, required=True, field="name")
    sort = validate.integer(data.get("sort") or 0, "排序", 0, 1_000_000, "sort")
    parent_id = validate.optional_ident(data.get("parent_id"), f"上级{KINDS[kind]}", "parent_id")
    async with atomic():
        parent = await usable(ctx, kind, parent_id, f"上级{KINDS[kind]}", "parent_id") if parent_id else None
        depth = parent["depth"] + 1 if parent else 1
        if depth > MAX_DEPTH:
            raise BusinessError(f"{KINDS[kind]}最多 {MAX_DEPTH} 级", code="too_deep", field="parent_id")
        if await _name_taken(ctx, kind, parent_id, name):
            raise Conflict(f"同一上级下已有名为【{name}】的{KINDS[kind]}", code="duplicate_name")
        t = now()
        row = TreeNode(
            tenant_id=ctx.tenant_id,
            kind=kind,
            parent=parent_id,
            name=name,
            depth=depth,
            sort=sort,
            path="",
            created_at=t,
            updated_at=t,
        )
        await row.save()
        row.path = child_path(parent["path"] if parent else "/", row.id)
        await row.save([TreeNode.path])
        created = await get(ctx, kind, row.id)
        await audit.record(ctx, "create", kind, row.id, f"添加{KINDS[kind]} {name}", after=as_dict(created))
        realtime.emit_tenant(ctx.tenant_id, kind, "created", row.id)
    return created


async def update(ctx: Ctx, kind: str, node_id: Any, data: dict) -> dict:
    """Rename or re-sort a node (the inline edit); the parent is fixed."""
    kind = _kind(kind)
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        node = await get(ctx, kind, node_id)
        if node["status"] != Status.ACTIVE:
            raise Conflict(f"{KINDS[kind]}已删除，不能修改", code="deleted")
        if "parent_id" in data:  # null or "" asks for a root node: a move too, unless it is one
            wanted = None if data["parent_id"] in (None, "") else str(data["parent_id"])
            if wanted != (None if node["parent"] is None else str(node["parent"])):
                raise BusinessError(f"上级{KINDS[kind]}不可修改", code="immutable", field="parent_id")
        values: dict = {}
        if "name" in data:
            values[TreeNode.name] = validate.text(data["name"], "名称", 100, required=True, field="name")
            if await _name_taken(ctx, kind, node["parent"], values[TreeNode.name], node["id"]):
                raise Conflict(f"同一上级下已有名为【{values[TreeNode.name]}】的{KINDS[kind]}", code="duplicate_name")
        if "sort" in data:
            values[TreeNode.sort] = validate.integer(data["sort"] or 0, "排序", 0, 1_000_000, "sort")
        if values:
            await TreeNode.update({**values, TreeNode.updated_at: now()}).where(TreeNode.id == node["id"])
        updated = await get(ctx, kind, node["id"])
        before, after = audit.changes(as_dict(node), as_dict(updated))
        if after:
            await audit.record(ctx, "update", kind, node["id"], f"修改{KINDS[kind]} {node['name']}", before, after)
            realtime.emit_tenant(ctx.tenant_id, kind, "updated", node["id"])
    return updated


async def delete(ctx: Ctx, kind: str, node_id: Any) -> dict:
    """Soft delete of the node and everything under it, refused while stock or open documents use
    what hangs under it (`impact`). Each removed node remembers this delete (`deleted_with`)."""
    kind = _kind(kind)
    ctx.require_hq(HQ_ONLY)
    async with atomic():
        node = await get(ctx, kind, node_id)
        if node["status"] != Status.ACTIVE:
            raise Conflict(f"{KINDS[kind]}已经删除", code="already_deleted")
        await hooks.lock_for_delete(TreeNode, TreeNode.select(TreeNode.id).where(_subtree(ctx, kind, node)))
        found = await impact(ctx, kind, node["id"])
        if found["refusal"]:
            raise Conflict(found["refusal"], code="in_use")
        where = _subtree(ctx, kind, node) & (TreeNode.status == Status.ACTIVE)
        count = await TreeNode.count().where(where)
        await TreeNode.update(
            {TreeNode.status: Status.DELETED, TreeNode.deleted_with: node["id"], TreeNode.updated_at: now()}
        ).where(where)
        await audit.record(
            ctx,
            "delete",
            kind,
            node["id"],
            f"删除{KINDS[kind]} {node['name']}（含下级共 {count} 个）",
            {"status": Status.ACTIVE},
            {"status": Status.DELETED},
        )
        realtime.emit_tenant(ctx.tenant_id, kind, "deleted", node["id"])
        return await get(ctx, kind, node["id"])


# --- what a delete removes, and its undoing ------------------------------------------------------


def _subtree(ctx: Ctx, kind: str, node: dict) -> Any:
    """The node and its descendants."""
    return scoped(ctx, TreeNode) & (TreeNode.kind == kind) & TreeNode.path.like(f"{node['path']}%")


async def impact(ctx: Ctx, kind: str, node_id: Any) -> dict:
    """What deleting a node takes out of use: its active subnodes, the goods, repair codes and fault
    reasons filed under its subtree, and what upper domains count on those goods (stock on hand,
    open documents: `core.hooks.usage`). `counts` are `Usage`s in display order; `refusal` is the
    reason the delete is refused ("" when it may go ahead)."""
    kind = _kind(kind)
    ctx.require_hq(HQ_ONLY)
    node = await get(ctx, kind, node_id)
    ids = TreeNode.select(TreeNode.id).where(_subtree(ctx, kind, node))

    async def active(table: Any, column: Any) -> int:
        return await table.count().where(scoped(ctx, table) & column.is_in(ids) & (table.status == Status.ACTIVE))

    below = _subtree(ctx, kind, node) & (TreeNode.status == Status.ACTIVE) & (TreeNode.id != node["id"])
    counts = [Usage("subnodes", f"下级{KINDS[kind]}", await TreeNode.count().where(below))]
    if kind == TreeKind.CATEGORY:
        goods_ids = Goods.select(Goods.id).where(scoped(ctx, Goods) & Goods.category.is_in(ids))
        counts += [
            Usage("goods", "货品", await active(Goods, Goods.category)),
            Usage("repair_codes", "维修代码", await active(RepairCode, RepairCode.category)),
            Usage("fault_reasons", "故障原因", await active(FaultReason, FaultReason.category)),
            *await hooks.usage(ctx, "goods", goods_ids),
        ]
    elif kind == TreeKind.REPAIR_CLASS:
        counts.append(Usage("repair_codes", "维修代码", await active(RepairCode, RepairCode.repair_class)))
    else:
        counts.append(Usage("fault_reasons", "故障原因", await active(FaultReason, FaultReason.fault_class)))
    reasons = [u.reason for u in counts if u.blocking and u.count > 0]
    refusal = f"【{node['name']}】下的货品{'、'.join(reasons)}，不能删除" if reasons else ""
    return {"node": node, "counts": counts, "refusal": refusal}


async def restore(ctx: Ctx, kind: str, node_id: Any) -> dict:
    """Undo a delete: the node and the nodes of its subtree that the same delete removed (a part
    deleted earlier on its own stays deleted, to be restored by itself). Refused under a deleted
    parent, and when an active sibling took the node's name meanwhile."""
    kind = _kind(kind)
    ctx.require_hq(HQ_ONLY)
    label = KINDS[kind]
    async with atomic():
        node = await get(ctx, kind, node_id)
        if node["status"] == Status.ACTIVE:
            raise Conflict(f"{label}【{node['name']}】未删除，无需恢复", code="not_deleted")
        if node["parent"] is not None:
            parent = await get(ctx, kind, node["parent"])
            if parent["status"] != Status.ACTIVE:
                raise Conflict(f"上级{label}【{parent['name']}】已删除，请先恢复上级", code="parent_deleted")
        if await _name_taken(ctx, kind, node["parent"], node["name"]):
            raise Conflict(f"同一上级下已有名为【{node['name']}】的{label}，请先将其改名", code="duplicate_name")
        # rows deleted before deletes were recorded (no `deleted_with`) come back as one delete
        batch = TreeNode.deleted_with.is_null() if node["deleted_with"] is None else None
        batch = batch or TreeNode.deleted_with == node["deleted_with"]
        where = _subtree(ctx, kind, node) & (TreeNode.status == Status.DELETED) & batch
        count = await TreeNode.count().where(where)
        await TreeNode.update(
            {TreeNode.status: Status.ACTIVE, TreeNode.deleted_with: None, TreeNode.updated_at: now()}
        ).where(where)
        await audit.record(
            ctx,
            "restore",
            kind,
            node["id"],
            f"恢复{label} {node['name']}（含下级共 {count} 个）",
            {"status": Status.DELETED},
            {"status": Status.ACTIVE},
        )
        realtime.emit_tenant(ctx.tenant_id, kind, "restored", node["id"])
        return await get(ctx, kind, node["id"]) | {"restored": count}


async def restorable_ids(ctx: Ctx, kind: str) -> set[int]:
    """Deleted nodes a restore can start from: those whose parent is not deleted (a node removed
    with its parent comes back with it)."""
    rows = await TreeNode.select(TreeNode.id, TreeNode.parent, TreeNode.status).where(
        scoped(ctx, TreeNode) & (TreeNode.kind == _kind(kind))
    )
    deleted = {r["id"] for r in rows if r["status"] == Status.DELETED}
    return {r["id"] for r in rows if r["id"] in deleted and r["parent"] not in deleted}
