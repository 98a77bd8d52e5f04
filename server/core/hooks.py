"""Hooks that let a lower domain call into an upper one without importing it: master data seeds
its dictionaries when system creates a tenant; upper domains say what uses the goods, warehouses
and orgs a lower one is asked to delete, and what is in transit to an org; and the locks that
keep such a delete and the writers using the row one after the other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.core import db
from server.core.states import RowStatus
from server.core.tenancy import Ctx

TenantHook = Callable[[Ctx], Awaitable[None]]
_tenant_created: list[TenantHook] = []


def on_tenant_created(fn: TenantHook) -> TenantHook:
    _tenant_created.append(fn)
    return fn


async def tenant_created(ctx: Ctx) -> None:
    """Run inside the tenant's creating transaction: a failing hook leaves no half tenant."""
    for fn in _tenant_created:
        await fn(ctx)


# --- what uses a master data row ---------------------------------------------------------------
# Master data sits below inventory (and later repair orders): it cannot read their tables, yet a
# delete must say what still uses the rows it removes and refuse while stock or open documents do.
# An upper domain registers a counter per subject at import; master data asks `usage`.


@dataclass(frozen=True)
class Usage:
    """One count of what uses some rows. A `blocking` count above zero refuses their delete, and
    `reason` says why in the refusal ("仍有库存 12 件")."""

    key: str
    label: str
    count: int
    blocking: bool = False
    reason: str = ""


# (ctx, ids) → counts; `ids` is a list of row ids or a one-column sub-select of them
UsageCounter = Callable[[Ctx, Any], Awaitable[list[Usage]]]
_usage: dict[str, list[UsageCounter]] = {}


def counts_usage(subject: str) -> Callable[[UsageCounter], UsageCounter]:
    """Register a counter of what uses rows of `subject` ("goods", "warehouse")."""

    def register(fn: UsageCounter) -> UsageCounter:
        _usage.setdefault(subject, []).append(fn)
        return fn

    return register


async def usage(ctx: Ctx, subject: str, ids: Any) -> list[Usage]:
    """Every registered count of what uses the rows `ids` of `subject`, in registration order."""
    found: list[Usage] = []
    for fn in _usage.get(subject, []):
        found += await fn(ctx, ids)
    return found


# --- what is in transit to an org ---------------------------------------------------------------
# The stock query (inventory) shows beside each row what is on its way to the row's org; the
# goods travel in logistics shipments, a domain above inventory. Logistics registers a provider.

# (ctx, orgs, goods) → {(receiving org, goods): quantity in transit}. `orgs` and `goods` are each a
# list of ids, a one-column sub-select of ids, or None (every org of the caller's subtree, every
# goods): the stock query asks for its page's rows, or for everything its filters match.
InTransit = Callable[[Ctx, Any, Any], Awaitable[dict[tuple[int, int], int]]]
_in_transit: list[InTransit] = []


def provides_in_transit(fn: InTransit) -> InTransit:
    """Register a provider of quantities in transit to orgs."""
    _in_transit.append(fn)
    return fn


async def in_transit(ctx: Ctx, org_ids: Any = None, goods_ids: Any = None) -> dict[tuple[int, int], int]:
    """What every provider has in transit to these orgs (of the caller's subtree) of these goods,
    by (org, goods); quantities above zero only."""
    found: dict[tuple[int, int], int] = {}
    for fn in _in_transit:
        for key, qty in (await fn(ctx, org_ids, goods_ids)).items():
            found[key] = found.get(key, 0) + qty
    return {k: q for k, q in found.items() if q > 0}


# --- the landing page -----------------------------------------------------------------------------
# Home (system) sits below the domain whose page a user lands on (【看板】 for managers): that
# domain registers the permission that sends a user there and the page's handler, which answers
# `/` itself (no redirect: `/` stays the address a session opens).
LandingView = Callable[[Any], Awaitable[Any]]
_landings: list[tuple[str, LandingView]] = []


def landing(permission: str, view: LandingView) -> None:
    """Users holding `permission` see `view(request)` at `/` instead of the plain home page."""
    _landings.append((permission, view))


def landing_for(ctx: Ctx) -> LandingView | None:
    return next((view for code, view in _landings if ctx.can(code)), None)


# --- a work order's other events ------------------------------------------------------------------
# Other domains (GSX, the customer's side) add entries to an order's timeline, act on a new order
# in its intake's transaction and on every status move in the move's, registered at import.
TimelineSource = Callable[[Ctx, int], Awaitable[list[dict]]]
IntakeHook = Callable[[Ctx, dict, dict], Awaitable[None]]
_timeline_sources: list[TimelineSource] = []
_intake_hooks: list[IntakeHook] = []


def adds_timeline_events(fn: TimelineSource) -> TimelineSource:
    """`fn(ctx, order id)` → [{"at": datetime, "label", "note", "user_name", "kind"}]: events, not
    statuses (they don't cut how long the order stayed in a status)."""
    _timeline_sources.append(fn)
    return fn


async def timeline_events(ctx: Ctx, order_id: int) -> list[dict]:
    return [e for fn in _timeline_sources for e in await fn(ctx, order_id)]


def on_work_order_intake(fn: IntakeHook) -> IntakeHook:
    """`fn(ctx, order, intake data)`, inside the intake's transaction (GSX: the coverage checked
    on the form before saving is attached to the new order)."""
    _intake_hooks.append(fn)
    return fn


async def work_order_taken_in(ctx: Ctx, order: dict, data: dict) -> None:
    for fn in _intake_hooks:
        await fn(ctx, order, data)


StatusHook = Callable[[Ctx, dict, str], Awaitable[None]]
_status_hooks: list[StatusHook] = []


def on_work_order_status(fn: StatusHook) -> StatusHook:
    """`fn(ctx, order, new status)`, inside the transaction that moves the order (intake
    included, from nothing to `accepted`): what it writes (a notice's outbox row, a live signal
    sent after commit) stands or falls with the move."""
    _status_hooks.append(fn)
    return fn


async def work_order_moved(ctx: Ctx, order: dict, to: str) -> None:
    for fn in _status_hooks:
        await fn(ctx, order, to)


# (ctx, order) → a card for the order's page or None: {"template": "<domain>/_card.html", …} whose
# keys the page's include reads as `card` (the quote's card: its lines, signature, actions)
CardSource = Callable[[Ctx, dict], Awaitable[dict | None]]
_card_sources: list[CardSource] = []


def adds_order_cards(fn: CardSource) -> CardSource:
    _card_sources.append(fn)
    return fn


async def order_cards(ctx: Ctx, order: dict) -> list[dict]:
    return [card for fn in _card_sources if (card := await fn(ctx, order)) is not None]


# alias → SQL of a scalar subquery on the order's row ("wo_order"."id"), read with the order for
# its page: what a card needs to know without a statement of its own (whether there is a quote)
_order_page_columns: dict[str, str] = {}


def reads_with_order_page(alias: str, sql: str) -> None:
    """The order's page gets `order[alias]`, selected in the order's own reading."""
    _order_page_columns[alias] = sql


def order_page_columns() -> dict[str, str]:
    return dict(_order_page_columns)


# --- a device shipment's arrival ---------------------------------------------------------------------
# A carry-in point's 【送修】 and a centre's 【返还】 ship a work order's device in a logistics
# shipment (issue 20); logistics sits below work orders, so on the receipt (or refusal) it calls
# what work orders registered, inside the receipt's transaction: the order moves with it or not at all.
DeviceHook = Callable[[Ctx, dict, bool], Awaitable[None]]
_device_hooks: list[DeviceHook] = []


def on_device_arrived(fn: DeviceHook) -> DeviceHook:
    """`fn(ctx of the receiver, shipment {id, no, type, work_order_id, …}, refused)`."""
    _device_hooks.append(fn)
    return fn


async def device_arrived(ctx: Ctx, shipment: dict, refused: bool) -> None:
    for fn in _device_hooks:
        await fn(ctx, shipment, refused)


# --- what a tenant has turned on ------------------------------------------------------------------
# A feature a tenant configures (GSX) shows in every page's menu: its domain says whether the
# tenant has it, and the caller's Ctx carries the answer (`Ctx.features`), kept with the Ctx and
# resolved again when the tenant's generation moves (a settings change), so a page needs no
# query of its own to draw the link.
FeatureSource = Callable[[int], Awaitable[set[str]]]
_features: list[FeatureSource] = []


def provides_features(fn: FeatureSource) -> FeatureSource:
    _features.append(fn)
    return fn


async def features(tenant_id: int) -> frozenset[str]:
    found: set[str] = set()
    for fn in _features:
        found |= await fn(tenant_id)
    return frozenset(found)


# --- a delete and the writers that would use the row, one after the other ----------------------
# "Is it used?" and the soft delete are two statements: on PostgreSQL a stock move or a document
# for the row could commit between them (a deleted warehouse holding stock). The delete locks the
# rows it removes (FOR UPDATE) before it counts their use; a writer holds the rows it uses (FOR KEY
# SHARE, which conflicts only with that lock, not with an edit) before it checks them usable. So
# either the writer waits and then finds them deleted, or the delete waits and then counts what
# the writer added. On SQLite every write transaction already holds the database's write lock.


async def lock_for_delete(table: Any, ids: Any) -> None:
    """Inside a delete's transaction, before its usage check: the rows `ids` (a list or a
    one-column sub-select) wait for every writer holding them, and keep new ones out until commit."""
    if not db.is_sqlite():
        await table.select(table.id).where(table.id.is_in(ids)).lock_rows("UPDATE", of=(table,))


async def hold(table: Any, ids: list[int]) -> set[int]:
    """Inside a writer's transaction, before it uses the rows `ids`: a delete of them under way
    finishes first, and none starts before the writer commits. The ids among them that are
    deleted (or absent), read after the wait."""
    if not ids:
        return set()
    query = table.select(table.id, table.status).where(table.id.is_in(ids))
    if not db.is_sqlite():
        query = query.lock_rows("KEY SHARE", of=(table,))
    return set(ids) - {r["id"] for r in await query if r["status"] == RowStatus.ACTIVE}


# --- printing a document ------------------------------------------------------------------------
# Work orders, logistics, inventory and the queue keep their print URLs, but the page comes from
# the tenant's print template, which lives in printing, a domain above them. Printing registers
# the renderer: (ctx, doc_type, doc_id, query) → the whole HTTP answer (the print page, or a plain
# page saying the template is broken).

Printer = Callable[[Ctx, str, int, dict], Awaitable[Any]]
_printer: list[Printer] = []


def prints_documents(fn: Printer) -> Printer:
    _printer[:] = [fn]
    return fn


async def print_document(ctx: Ctx, doc_type: str, doc_id: int, query: dict) -> Any:
    """The print page of a document (`query`: the request's `template_id`, a slip's `width`)."""
    if not _printer:
        raise RuntimeError("printing is not wired (server.domains imports it)")
    return await _printer[0](ctx, doc_type, doc_id, query)
