"""htmx pages of inventory, one module a screen, each exporting its ROUTES."""

from server.inventory.pages import documents, stock

ROUTES = [*documents.ROUTES, *stock.ROUTES]
