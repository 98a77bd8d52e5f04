"""Print pages follow the document's own scoping: a document of another org's subtree or another
tenant is a 404, whatever template is asked for."""

from tests.api_helpers import refused
from tests.conftest import api_login
from tests.logistics import helpers as order_helpers
from tests.printing.helpers import PRINT
from tests.system.helpers import PASSWORD


async def test_a_document_outside_the_callers_subtree_is_404(client, tenant):
    net = await order_helpers.network(tenant)
    doc = await order_helpers.order(net["b2"], (net["screen"], 1))  # seen by B2 and its parent HQ
    hq = await api_login(client, "hqreview@ACME", PASSWORD)
    ok = await client.get(f"{PRINT}/order/{doc['id']}", headers=hq)
    assert ok.status_code == 200 and doc["no"] in ok.text
    s2 = await api_login(client, "s2user@ACME", PASSWORD)  # B2's sibling
    b3 = await api_login(client, "b3user@ACME", PASSWORD)  # B2's child
    for headers in (s2, b3):
        await refused(client, "GET", f"{PRINT}/order/{doc['id']}", headers, status=404, code="not_found")
    page = await client.get(f"/print/order/{doc['id']}", headers=s2)
    assert page.status_code == 404 and doc["no"] not in page.text


async def test_another_tenants_document_is_404(client, tenant, other_tenant):
    net = await order_helpers.network(tenant)
    doc = await order_helpers.order(net["b2"], (net["screen"], 1))
    other = await api_login(client, "admin@OTHER")
    await refused(client, "GET", f"{PRINT}/order/{doc['id']}", other, status=404, code="not_found")
