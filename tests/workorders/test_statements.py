"""SQL statements of 【工单处理】 (issue 16): the list (page and API) costs the same for 1 order
as for 20 and at most 4 statements, the detail page the same for 1 line as for 5 and for a
device with 1 or 6 earlier orders, within a bound. Counts statements, never time."""

from __future__ import annotations

import pytest

from server.core import authcache, pagination
from server.workorders.services import orders
from tests.conftest import api_login, page_login
from tests.core.test_list_statements import LIMIT
from tests.core.test_list_statements import count as count_all
from tests.workorders.helpers import repairing, wo_world


async def assigned(ctx, w: dict, **fields) -> None:
    """A repairing order with a part line and a technician: every name the list looks up."""
    order = await repairing(ctx, w, (w["lcd_code"], w["screen"], 1), **fields)
    await orders.assign(ctx, order["id"], ctx.user_id)


# the orders with their customers, goods and technicians' names (the SLA settings and the count
# are kept between requests); the API's with their fault reasons and lines
LIST_STATEMENTS = {"/workorders/": 1, "/workorders/mine": 1, "/api/v1/work-orders": 1}
# the order with its fault reasons, its lines (open: with their stock) and its timeline; the
# device's orders; once quoted, its current quote (the quote's card). Kept between requests: the
# dictionaries, what the forms offer (category, repair codes, fault reasons, warehouses), the
# technicians and whether GSX is configured.
DETAIL_LIMIT = 3


async def count(client, monkeypatch, path: str, headers: dict | None) -> list[str]:
    """The page's own statements: what the warming request left in the caches (the caller, the SLA
    settings, the count) stays there, however slow a loaded machine is between the two requests."""
    monkeypatch.setattr(authcache, "TTL", 3600)
    monkeypatch.setattr(pagination, "COUNT_TTL", 3600)
    return await count_all(client, monkeypatch, path, headers)


@pytest.mark.parametrize("path", LIST_STATEMENTS)
async def test_list_statements_do_not_grow_with_orders(client, tenant, monkeypatch, path):
    w = await wo_world(tenant, stock=50)
    await assigned(tenant, w, serial_no="SN-A")
    headers = await api_login(client, "admin@ACME") if path.startswith("/api") else None
    if headers is None:
        await page_login(client, "admin@ACME")
    one = await count(client, monkeypatch, path, headers)
    for i in range(19):
        await assigned(tenant, w, phone=f"1380000{i:04d}", serial_no=f"SN{i}")
    twenty = await count(client, monkeypatch, path, headers)
    assert len(one) == len(twenty) == LIST_STATEMENTS[path] <= LIMIT, "\n".join(twenty)
    for query in ("phone=13800000007", "serial_no=SN7", "no=WO", "page=2&page_size=5"):
        seen = await count(client, monkeypatch, f"{path}?{query}", headers)
        assert len(seen) <= LIMIT, "\n".join(seen)  # the phone: its customers first


async def test_detail_statements_do_not_grow_with_lines_or_history(client, tenant, monkeypatch):
    w = await wo_world(tenant, stock=50)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1), serial_no="SN-D")
    await page_login(client, "admin@ACME")
    small = await count(client, monkeypatch, f"/workorders/{order['id']}", None)
    for _ in range(4):
        await orders.add_line(tenant, order["id"], {"repair_code_id": w["diag_code"], "qty": 1})
    for _ in range(5):
        await repairing(tenant, w, (w["lcd_code"], w["screen"], 1), serial_no="SN-D")
    large = await count(client, monkeypatch, f"/workorders/{order['id']}", None)
    assert len(small) == len(large) <= DETAIL_LIMIT, "\n".join(large)


async def test_the_forms_choices_kept_between_views_follow_this_process_writes(client, tenant, monkeypatch):
    """What the repair forms offer is kept between views of the org's orders of one category
    (`pagination.remembered`), and a write of this process to what it reads shows at once: a
    repair code disabled, a warehouse unassigned."""
    from server.masterdata.services import codes, warehouses

    w = await wo_world(tenant, stock=5)
    order = await repairing(tenant, w, serial_no="SN-C")
    monkeypatch.setattr(pagination, "COUNT_TTL", 3600)
    offered = await orders.choices(tenant, order)
    assert w["diag_code"] in {c["id"] for c in offered["repair_codes"]}
    assert w["general"] in {s["warehouse_id"] for s in offered["warehouses"]}
    assert await orders.choices(tenant, order) == offered  # kept
    await codes.update(tenant, "repair_code", w["diag_code"], {"enabled": False})
    assert w["diag_code"] not in {c["id"] for c in (await orders.choices(tenant, order))["repair_codes"]}
    assignment = next(s for s in offered["warehouses"] if s["warehouse_id"] == w["general"])
    await warehouses.set_assignment_enabled(tenant, assignment["id"], False)
    assert w["general"] not in {s["warehouse_id"] for s in (await orders.choices(tenant, order))["warehouses"]}
