"""SQL statements of 【工单处理】 (issue 16): the list costs the same for 1 order as for 20, the
detail page the same for 1 line as for 5 and for a device with 1 or 6 earlier orders. Counts
statements, never time."""

from __future__ import annotations

from server.workorders.services import orders
from tests.conftest import page_login
from tests.core.test_list_statements import count
from tests.workorders.helpers import repairing, wo_world


async def assigned(ctx, w: dict, **fields) -> None:
    """A repairing order with a part line and a technician: every name the list looks up."""
    order = await repairing(ctx, w, (w["lcd_code"], w["screen"], 1), **fields)
    await orders.assign(ctx, order["id"], ctx.user_id)


# the orders (their customers joined), lines, fault reasons, goods, repair codes, technicians, SLA settings
LIST_LIMIT = 7


async def test_list_statements_do_not_grow_with_orders(client, tenant, monkeypatch):
    w = await wo_world(tenant, stock=50)
    await assigned(tenant, w, serial_no="SN-A")
    await page_login(client, "admin@ACME")
    one = await count(client, monkeypatch, "/workorders/", None)
    for i in range(19):
        await assigned(tenant, w, phone=f"1380000{i:04d}", serial_no=f"SN{i}")
    twenty = await count(client, monkeypatch, "/workorders/", None)
    assert len(one) == len(twenty) <= LIST_LIMIT, "\n".join(twenty)
    for path in ("/workorders/?phone=13800000007", "/workorders/?serial_no=SN7"):
        assert len(await count(client, monkeypatch, path, None)) <= LIST_LIMIT + 1  # the phone: its customers first


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
    assert len(small) == len(large), "\n".join(large)
