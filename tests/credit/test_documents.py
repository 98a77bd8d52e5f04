"""Recharge and adjustment documents (SPEC 3): who may issue them, their life cycle, freezes."""

from server.core.db import atomic
from server.credit.services import documents, ledger
from tests.credit.helpers import adjustment, balances, branches, recharge
from tests.masterdata.helpers import refused
from tests.system.helpers import service_user


async def test_recharge_raises_the_childrens_balances_once(tenant):
    t = await branches(tenant)
    doc = await documents.create(tenant, "recharge", {"remark": "首次授信"})
    doc = await documents.add_line(tenant, "recharge", doc["id"], {"org_id": t["b2"], "amount": "1000.0000"})
    doc = await documents.add_line(tenant, "recharge", doc["id"], {"org_id": t["b3"], "amount": "0.0001"})
    assert doc["status"] == "draft" and doc["total_amount"] == "1000.0001"
    doc = await documents.update_line(tenant, "recharge", doc["id"], doc["lines"][1]["id"], {"amount": "0.1000"})
    doc = await documents.submit(tenant, "recharge", doc["id"])
    line = {"org_id": t["b2"], "amount": "1"}
    await refused(documents.add_line(tenant, "recharge", doc["id"], line), "not_draft", 409)
    assert await balances(t["b2"]) == (0, 0)
    doc = await documents.confirm(tenant, "recharge", doc["id"])
    assert doc["status"] == "confirmed" and doc["confirmed_by_name"]
    assert await balances(t["b2"]) == (10_000_000, 0) and await balances(t["b3"]) == (1_000, 0)
    await refused(documents.confirm(tenant, "recharge", doc["id"]), "already_confirmed", 409)
    await refused(documents.delete(tenant, "recharge", doc["id"]), "confirmed", 409)
    assert await balances(t["b2"]) == (10_000_000, 0)
    account = await ledger.account(tenant, t["b2"])
    assert (account["balance"], account["frozen"], account["available"]) == ("1000.0000", "0.0000", "1000.0000")
    entries = (await ledger.entries(tenant, t["b2"])).items
    assert [(e["kind"], e["amount"], e["doc_no"]) for e in entries] == [("recharge", "1000.0000", doc["no"])]


async def test_only_descendants_may_be_recharged(tenant):
    t = await branches(tenant)
    b2 = t["b2_ctx"]

    def body(org_id: int) -> dict:
        return {"lines": [{"org_id": org_id, "amount": "5"}]}

    assert (await documents.create(b2, "recharge", body(t["b3"])))["lines"][0]["org_id"] == t["b3"]
    await refused(documents.create(b2, "recharge", body(t["b2"])), "own_org")
    await refused(documents.create(b2, "recharge", body(t["s2"])), "not_descendant")
    await refused(documents.create(b2, "recharge", body(tenant.org_id)), "not_descendant")
    await refused(documents.create(tenant, "recharge", body(tenant.org_id)), "own_org")


async def test_amounts_are_checked(tenant):
    t = await branches(tenant)
    for bad in ("0", "-1", "0.00001", "abc", "", None, "100000000000000", 1e20, True):
        body = {"lines": [{"org_id": t["b2"], "amount": bad}]}
        await refused(documents.create(tenant, "recharge", body), "invalid_money")
    ok = await documents.create(tenant, "recharge", {"lines": [{"org_id": t["b2"], "amount": "99999999999999.9999"}]})
    assert ok["total_amount"] == "99999999999999.9999"


async def test_adjustment_freezes_decreases_on_submit_and_consumes_them_on_confirm(tenant):
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], "1000"))
    doc = await adjustment(tenant, (t["b2"], "decrease", "200.5"), (t["b2"], "increase", "10"))
    assert doc["status"] == "submitted" and [li["frozen"] for li in doc["lines"]] == [True, False]
    assert await balances(t["b2"]) == (10_000_000, 2_005_000)
    frozen = (await ledger.freezes(tenant, t["b2"])).items
    assert [(f["amount"], f["remaining"], f["doc_no"]) for f in frozen] == [("200.5000", "200.5000", doc["no"])]
    await documents.confirm(tenant, "adjustment", doc["id"])
    assert await balances(t["b2"]) == (10_000_000 - 2_005_000 + 100_000, 0)
    assert (await ledger.freezes(tenant, t["b2"])).items == []  # a used freeze leaves the frozen records
    assert (await ledger.freezes(tenant, t["b2"], ledger.FreezeFilters(open=False))).total == 1


async def test_a_decrease_beyond_available_is_refused_with_the_shortfall(tenant):
    t = await branches(tenant)
    await recharge(tenant, (t["b2"], "100"))
    first = await adjustment(tenant, (t["b2"], "decrease", "60"))
    doc = await adjustment(tenant, (t["b2"], "decrease", "50.0001"), submit=False)
    exc = await refused(documents.submit(tenant, "adjustment", doc["id"]), "insufficient_credit", 409)
    assert exc.detail == "可用额度不足：还差 10.0001"
    assert (await documents.get(tenant, "adjustment", doc["id"]))["status"] == "draft"  # nothing half-applied
    # deleting the submitted adjustment gives its freeze back
    await documents.delete(tenant, "adjustment", first["id"])
    assert await balances(t["b2"]) == (1_000_000, 0)
    await documents.submit(tenant, "adjustment", doc["id"])
    assert await balances(t["b2"]) == (1_000_000, 500_001)


async def test_four_eyes(tenant):
    from server.system.services import tenants

    t = await branches(tenant)
    await tenants.update_settings(tenant, {"credit_four_eyes": True})
    codes = ["credit.recharge.view", "credit.recharge.create", "credit.recharge.submit", "credit.recharge.confirm"]
    clerk = await service_user(tenant, "clerk", tenant.org_id, "hq", codes)
    checker = await service_user(
        tenant, "checker", tenant.org_id, "hq", ["credit.recharge.view", "credit.recharge.confirm"]
    )
    doc = await recharge(clerk, (t["b2"], "10"), confirm=False)
    await refused(documents.confirm(clerk, "recharge", doc["id"]), "four_eyes", 403)
    assert (await documents.confirm(checker, "recharge", doc["id"]))["status"] == "confirmed"


async def test_exact_over_ten_thousand_steps(tenant):
    """0.0001 ten thousand times is exactly 1.0000: integer ten-thousandths, no float anywhere."""
    t = await branches(tenant)
    async with atomic():  # one transaction: the arithmetic is the point, not 10,000 commits
        for i in range(10_000):
            await ledger.recharge(tenant, t["b2"], 1, ledger.DocRef("recharge", "TEST", 1, line_id=i))
    assert (await ledger.account(tenant, t["b2"]))["balance"] == "1.0000"


async def test_the_account_list_tells_each_orgs_level(tenant):
    t = await branches(tenant)
    levels = {a["org_id"]: a["level"] for a in (await ledger.accounts(tenant)).items}
    assert levels[t["b2"]] == 2 and levels[t["b3"]] == 3
