"""Stock value is exact (issue 15, item 3): the org's value of a goods is the sum of what its
moves added and took, in ten-thousandths; the average cost is value / qty rounded ROUND_HALF_UP
to 0.0001 for display only; an outbound takes value × qty_out / qty_on_hand rounded the same way
and the last units take what is left, so value and quantity reach 0 together. Exports write
money as numbers (0.0000) and quantities as integers."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import load_workbook

from server.core import money
from server.inventory.services import documents, stock
from server.inventory.tables import GoodsCost
from tests.inventory.api_helpers import URL, InFlight, call, concurrently, error_of
from tests.inventory.helpers import inbound, outbound, world

Q = Decimal("0.0001")


async def row_of(ctx, goods_id: int, warehouse_id: int | None = None) -> dict:
    filters = stock.StockFilters(goods_id=str(goods_id), warehouse_id=str(warehouse_id or ""))
    return (await stock.search(ctx, filters)).items[0]


async def org_value(goods_id: int) -> int:
    return (await GoodsCost.select(GoodsCost.value).where(GoodsCost.goods_id == goods_id).first())["value"]


async def confirm_outbound(ctx, warehouse_id: int, goods_id: int, qty: int) -> None:
    doc = await outbound(ctx, warehouse_id, (goods_id, qty))
    await documents.confirm(ctx, "outbound", doc["id"])


def share(value: int, part: int, whole: int) -> int:
    """The rule, in Python: round_half_up(value × part / whole) in ten-thousandths."""
    return int((Decimal(value) * part / whole).quantize(Decimal(1), ROUND_HALF_UP))


async def test_thirteen_bought_for_4220_are_worth_4220_and_selling_them_leaves_nothing(tenant):
    w = await world(tenant)
    # 7 × 320 + 6 × 330 = 4220.0000; the average 324.615384… shows as 324.6154, and 13 × that
    # would be 4220.0002
    await inbound(tenant, w["general"], (w["screen"], 7, "320"), (w["screen"], 6, "330"))
    row = await row_of(tenant, w["screen"])
    assert (row["qty"], row["value"], row["avg_cost"]) == (13, "4220.0000", "324.6154")

    # outbounds take value × qty_out / qty_on_hand, rounded half up; the average is re-derived
    value = 42_200_000
    for qty_out, on_hand in ((1, 13), (5, 12)):
        await confirm_outbound(tenant, w["general"], w["screen"], qty_out)
        value -= share(value, qty_out, on_hand)
        row = await row_of(tenant, w["screen"])
        assert row["value"] == money.fmt(value)
        assert row["avg_cost"] == str((Decimal(value) / 10_000 / row["qty"]).quantize(Q, ROUND_HALF_UP))
    assert await org_value(w["screen"]) == value
    # the last 7 take exactly what is left
    await confirm_outbound(tenant, w["general"], w["screen"], 7)
    row = await row_of(tenant, w["screen"])
    assert (row["qty"], row["value"]) == (0, "0.0000")
    assert await org_value(w["screen"]) == 0
    # buying again starts from the new cost alone
    await inbound(tenant, w["general"], (w["screen"], 3, "10"))
    row = await row_of(tenant, w["screen"])
    assert (row["value"], row["avg_cost"]) == ("30.0000", "10.0000")


async def test_a_row_in_one_of_two_warehouses_shows_its_share_of_the_orgs_value(tenant):
    w = await world(tenant)
    await inbound(tenant, w["general"], (w["screen"], 7, "320"))
    await inbound(tenant, w["defective"], (w["screen"], 6, "330"))
    general = await row_of(tenant, w["screen"], w["general"])
    defective = await row_of(tenant, w["screen"], w["defective"])
    # one org average (SPEC 4.1): each row's share of 4220.0000, rounded half up
    assert general["value"] == money.fmt(share(42_200_000, 7, 13)) == "2272.3077"
    assert defective["value"] == "1947.6923"
    assert general["avg_cost"] == defective["avg_cost"] == "324.6154"


async def test_concurrent_outbounds_keep_the_value_exact_and_never_negative(client, tenant, admin, monkeypatch):
    w = await world(tenant)
    for goods in (w["screen"], w["battery"]):
        await inbound(tenant, w["general"], (goods, 7, "320"), (goods, 6, "330"))
    # 20 outbounds of one screen (13 fit) and 10 of one battery (all fit), all at once
    docs = [await outbound(tenant, w["general"], (w["screen"], 1)) for _ in range(20)]
    docs += [await outbound(tenant, w["general"], (w["battery"], 1)) for _ in range(10)]
    confirming = InFlight(monkeypatch, documents, "confirm")
    responses = await concurrently(
        client, [("POST", f"{URL['outbound']}/{d['id']}/confirm", admin, None) for d in docs]
    )
    assert confirming.most > 1
    assert sum(r.status_code == 200 for r in responses[:20]) == 13
    assert all(error_of(r, 409, "insufficient_stock") for r in responses[:20] if r.status_code != 200)
    assert all(r.status_code == 200 for r in responses[20:])

    assert await org_value(w["screen"]) == 0  # all 13 gone: nothing left over, nothing below 0
    value = 42_200_000  # one unit at a time, whatever the order: the same amounts
    for on_hand in range(13, 3, -1):
        value -= share(value, 1, on_hand)
    assert await org_value(w["battery"]) == value > 0
    row = (await call(client, "GET", f"/api/v1/stock?goods_id={w['battery']}", admin))["items"][0]
    assert (row["qty"], row["value"]) == (3, money.fmt(value))


async def test_exports_write_money_as_numbers_and_quantities_as_integers(client, tenant, admin):
    w = await world(tenant)
    doc = await inbound(tenant, w["general"], (w["screen"], 7, "320"), (w["screen"], 6, "330"))
    for url in ("/api/v1/stock/export", f"{URL['inbound']}/export"):
        response = await client.get(url, headers=admin)
        assert response.status_code == 200
        ws = load_workbook(io.BytesIO(response.content)).active
        header = [c.value for c in ws[1]]
        money_cols = [header.index(h) for h in ("平均成本", "库存金额", "成本价", "金额") if h in header]
        qty_col = header.index("库存数量" if "库存数量" in header else "数量")
        assert money_cols, header
        for cells in ws.iter_rows(min_row=2):
            assert isinstance(cells[qty_col].value, int), cells[qty_col].value
            for i in money_cols:
                assert isinstance(cells[i].value, int | float) and cells[i].number_format == "0.0000", cells[i]
    response = await client.get("/api/v1/stock/export", headers=admin)
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [(r[6], r[7], round(r[8], 4), r[9]) for r in rows[1:]] == [(13, 0, 324.6154, 4220)]  # 在途 0
    assert doc["total_amount"] == "4220.0000"
