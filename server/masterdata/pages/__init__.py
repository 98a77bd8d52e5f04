"""htmx pages of master data, one module a list, each exporting its ROUTES."""

from server.masterdata.pages import codes, dictionaries, goods, pickers, suppliers, trees, warehouses

ROUTES = [
    *trees.ROUTES,
    *codes.ROUTES,
    *goods.ROUTES,
    *warehouses.ROUTES,
    *suppliers.ROUTES,
    *dictionaries.ROUTES,
    *pickers.ROUTES,
]
