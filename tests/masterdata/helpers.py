"""Helpers shared by the master data tests: trees, goods, orgs of each level and branch users,
built through the services (fast) or the API (to prove the HTTP contract)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from server.core.errors import BusinessError
from server.core.tenancy import Ctx
from server.masterdata import permissions as P
from server.masterdata.services import codes, goods, trees, warehouses
from tests.api_helpers import CJK
from tests.api_helpers import error_of as plain_error_of
from tests.system.helpers import service_org, service_user, user_with

LONG = "长" * 10_000


def error_of(response, status: int, code: str | None = None, extra: tuple[str, ...] = ()) -> dict:
    """`tests.api_helpers.error_of`, where a refusal of fields (every field checked at once,
    `validate.Fields`) also lists them in `errors`: each a field and a Chinese detail, the first
    being the top-level one."""
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if "errors" in body and "errors" not in extra:
        assert status == 400, body
        assert body["errors"] and all(set(e) == {"field", "detail"} and CJK.search(e["detail"]) for e in body["errors"])
        assert body["detail"].startswith(body["errors"][0]["detail"]), body
        extra = (*extra, "errors")
    return plain_error_of(response, status, code, extra)


# every master data permission: a branch user holding them all must still be refused every write
ALL_MD = sorted(
    {
        *(c for kind in P.TREE.values() for c in kind.values()),
        *P.REPAIR_CODE.values(),
        *P.FAULT_REASON.values(),
        *P.GOODS.values(),
        P.GOODS_TYPE_MANAGE,
        *P.WAREHOUSE.values(),
        *P.ASSIGNMENT.values(),
        *P.SUPPLIER.values(),
        P.DICTIONARY_VIEW,
        P.DICTIONARY_UPDATE,
        P.DICTIONARY_EXPORT,
    }
)


async def refused(coro, code: str | None = None, status: int = 400) -> BusinessError:
    """Await a service call that must raise a BusinessError with a Chinese detail."""
    try:
        await coro
    except BusinessError as exc:
        assert exc.status_code == status, (exc.status_code, exc.detail)
        assert CJK.search(exc.detail), exc.detail
        if code is not None:
            assert exc.code == code, (exc.code, exc.detail)
        return exc
    raise AssertionError("the call was not refused")


async def chain(ctx: Ctx, kind: str, *names: str) -> list[dict]:
    """A path of nodes (root first), e.g. chain(ctx, "category", "Apple", "iPhone", "iPhone 15")."""
    nodes: list[dict] = []
    for name in names:
        parent = nodes[-1]["id"] if nodes else None
        nodes.append(await trees.create(ctx, kind, {"name": name, "parent_id": parent}))
    return nodes


async def basics(ctx: Ctx) -> dict:
    """A category tree, a repair class tree and a fault class tree to file codes and goods under."""
    apple, iphone, iphone15 = await chain(ctx, "category", "Apple", "iPhone", "iPhone 15")
    ipad = await trees.create(ctx, "category", {"name": "iPad", "parent_id": apple["id"]})
    screen, lcd = await chain(ctx, "repair_class", "屏幕维修", "换屏")
    power, battery = await chain(ctx, "fault_class", "电源故障", "电池")
    return {
        "apple": apple["id"],
        "iphone": iphone["id"],
        "iphone15": iphone15["id"],
        "ipad": ipad["id"],
        "screen": screen["id"],
        "lcd": lcd["id"],
        "power": power["id"],
        "battery": battery["id"],
    }


async def repair_code(ctx: Ctx, code: str, category: int, repair_class: int, **fields) -> dict:
    body = {"code": code, "name": f"维修{code}", "category_id": category, "repair_class_id": repair_class} | fields
    return await codes.create(ctx, "repair_code", body)


async def fault_reason(ctx: Ctx, code: str, category: int, fault_class: int, **fields) -> dict:
    body = {"code": code, "name": f"故障{code}", "category_id": category, "fault_class_id": fault_class} | fields
    return await codes.create(ctx, "fault_reason", body)


def tiers(*rows: tuple[str, str, bool]) -> list[dict]:
    """Price tiers of levels 1.. in order: (order_price, retail_price, orderable)."""
    return [{"level": i, "order_price": o, "retail_price": r, "orderable": ok} for i, (o, r, ok) in enumerate(rows, 1)]


FOUR_TIERS = tiers(
    ("100.0000", "150.0000", True),
    ("110.0000", "160.0000", True),
    ("120.0000", "170.0000", True),
    ("130.0000", "180.0000", False),
)


async def make_goods(ctx: Ctx, code: str, category: int, **fields) -> dict:
    body = {"code": code, "name": f"货品{code}", "category_id": category, "prices": FOUR_TIERS} | fields
    return await goods.create(ctx, body)


async def level_orgs(ctx: Ctx) -> dict[int, int]:
    """Org id of each level 1–4: the head office (level 1) and branches of levels 2, 3 and 4."""
    l2 = await service_org(ctx, "L2", ctx.org_id, level=2)
    l3 = await service_org(ctx, "L3", l2["id"], level=3)
    l4 = await service_org(ctx, "L4", l3["id"], level=4)
    return {1: ctx.org_id, 2: l2["id"], 3: l3["id"], 4: l4["id"]}


async def branch_ctx(ctx: Ctx, permissions=ALL_MD, code: str = "BR") -> Ctx:
    """A user of a new branch holding `permissions` (by default every master data permission)."""
    branch = await service_org(ctx, code, ctx.org_id, level=2)
    return await service_user(ctx, f"u{code.lower()}", branch["id"], "branch", list(permissions))


async def hq_ctx(ctx: Ctx, permissions, account: str = "clerk") -> Ctx:
    """A head-office user holding only `permissions`."""
    return await service_user(ctx, account, ctx.org_id, "hq", list(permissions))


async def branch_api_user(client: AsyncTestClient, admin: dict, org_id: int, permissions=ALL_MD) -> dict:
    """Bearer headers of a user of branch `org_id` holding `permissions`."""
    _, headers = await user_with(client, admin, "brclerk", org_id, "branch", list(permissions))
    return headers


async def warehouse(ctx: Ctx, code: str, type: str = "general", **fields) -> dict:
    return await warehouses.create(ctx, {"code": code, "name": f"{code}仓", "type": type} | fields)
