"""【看板】 (SPEC 7): every figure of the board for the caller's org subtree, or one org of it.
The figures are aggregates computed by the database through the services of the domains they
come from (each one what that domain's list shows with a filter); this module only picks the
sections the caller may see and narrows the scope to the chosen org."""

from __future__ import annotations

import dataclasses
from typing import Any

import realtime
from server.core.clock import now
from server.core.tenancy import Ctx
from server.credit import permissions as credit_p
from server.credit.services import ledger
from server.inventory import permissions as inventory_p
from server.inventory.services import stock
from server.logistics import permissions as logistics_p
from server.logistics.services import shipments
from server.queue import permissions as queue_p
from server.queue.services import stats as queue_stats
from server.queue.states import DeviceKind
from server.system.services import orgs
from server.workorders import permissions as workorders_p
from server.workorders.services import figures

# the live topics whose events move a figure; a board device hears them for its org's subtree
TOPICS = ("workorders", "queue", "stock", "credit", "shipments")
BOARD_DEVICE = DeviceKind.BOARD  # 看板屏
realtime.device_hears(BOARD_DEVICE, TOPICS)

# section -> the permission of the list it summarises
SECTIONS = {
    "workorders": workorders_p.VIEW,
    "queue": queue_p.STATS_VIEW,
    "below_safety": inventory_p.STOCK["view"],
    "credit": credit_p.ACCOUNT["view"],
    "in_transit": logistics_p.IN_TRANSIT["view"],
}


def sections_for(ctx: Ctx) -> frozenset[str]:
    """What the caller sees: a board device (the wall TV) every section of its org; a person
    the sections whose lists they may open."""
    if ctx.device_id is not None:
        return frozenset(SECTIONS)
    return frozenset(s for s, code in SECTIONS.items() if ctx.can(code))


async def narrowed(ctx: Ctx, org_id: Any = None) -> tuple[Ctx, dict]:
    """The caller as if they worked at `org_id` (one of their subtree, else 404): every domain's
    own subtree scoping then gives that org's figures. No org: the caller's own."""
    if org_id in (None, ""):
        return ctx, {"id": ctx.org_id, "name": ctx.org_name}
    org = await orgs.get(ctx, org_id)
    if org["id"] == ctx.org_id:
        return ctx, org
    return dataclasses.replace(
        ctx, org_id=org["id"], org_path=org["path"], org_kind=org["kind"], org_name=org["name"]
    ), org


async def board(ctx: Ctx, org_id: Any = None) -> dict:
    """Every figure of the board (None for a section the caller may not see)."""
    sections = sections_for(ctx)
    scope, org = await narrowed(ctx, org_id)
    out: dict[str, Any] = {
        "org_id": org["id"],
        "org_name": org["name"],
        "generated_at": now(),
        "today": figures.local_today(scope).isoformat(),
        "today_intake": None,
        "by_status": None,
        "overdue": None,
        "completed_by_technician": None,
        "trend": None,
        "out_for_repair": None,
        "queue": None,
        "below_safety": None,
        "credit": None,
        "in_transit": None,
    }
    if "workorders" in sections:
        out |= await figures.board(scope)
    if "queue" in sections:
        per_org = await queue_stats.today_by_org(scope)
        out["queue"] = {"waiting": sum(r["waiting"] for r in per_org), "orgs": per_org}
    if "below_safety" in sections:
        out["below_safety"] = await stock.below_safety(scope)
    if "credit" in sections:
        accounts = await ledger.children_standing(scope)
        out["credit"] = {"low": sum(1 for a in accounts if a["low"]), "accounts": accounts}
    if "in_transit" in sections:
        out["in_transit"] = await shipments.transit_figures(scope)
    return out
