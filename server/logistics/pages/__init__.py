"""htmx pages of logistics, one module a screen group, each exporting its ROUTES."""

from server.logistics.pages import discrepancies, orders, shipments

ROUTES = [*orders.ROUTES, *shipments.ROUTES, *discrepancies.ROUTES]
