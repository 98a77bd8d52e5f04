"""Print pages follow the document's own scoping: a document of another org's subtree or another
tenant is a 404, whatever template is asked for."""

import pytest
from litestar.datastructures import UploadFile

from server.core.errors import Forbidden
from server.core.pagination import PageParams
from server.printing import permissions as PP
from server.printing import services
from server.printing.tables import PrintBackground, PrintTemplate
from tests.api_helpers import refused
from tests.conftest import api_login
from tests.logistics import helpers as order_helpers
from tests.masterdata.helpers import branch_ctx
from tests.printing.helpers import PRINT, png
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


async def test_a_branch_may_read_but_not_change_the_companys_templates(client, tenant):
    """Print templates are company-wide (one default per document type for every org): a branch
    user holding every template permission reads them, and changes nothing."""
    branch = await branch_ctx(tenant, permissions=list(PP.TEMPLATE.values()))
    mine = (await services.search(branch, params=PageParams(1, 1))).items[0]
    before = await PrintTemplate.select().order_by(PrintTemplate.id)
    body = {"name": "网点自制", "doc_type": "order", "mode": "html", "source": "<p>{{ doc.no }}</p>"}
    for attempt in (
        services.create(branch, body),
        services.update(branch, mine["id"], {"name": "改名"}),
        services.set_default(branch, mine["id"]),
        services.delete(branch, mine["id"]),
        services.import_(branch, services.export(mine)),
        services.save_background(branch, UploadFile("image/png", "f.png", png(4, 4))),
    ):
        with pytest.raises(Forbidden, match="只能由总部修改"):
            await attempt
    assert await PrintTemplate.select().order_by(PrintTemplate.id) == before
    assert await PrintBackground.count() == 0
