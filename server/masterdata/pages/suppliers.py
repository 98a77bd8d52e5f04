"""Pages of 供应商: list, add/edit dialog, delete."""

from server.masterdata import permissions as P
from server.masterdata.pages.common import register_pages
from server.masterdata.services import suppliers

SupplierPages = register_pages(
    "/masterdata/suppliers",
    suppliers,
    suppliers.SupplierFilters,
    P.SUPPLIER,
    title="供应商",
    noun="供应商",
    template="masterdata/suppliers.html",
    form=("masterdata/_supplier_form.html", "supplier"),
    topic="suppliers",
)

ROUTES = [SupplierPages]
