"""htmx pages of credit, one module a screen, each exporting its ROUTES."""

from server.credit.pages import accounts, documents

ROUTES = [*documents.ROUTES, *accounts.ROUTES]
