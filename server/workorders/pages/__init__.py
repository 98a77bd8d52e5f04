from server.workorders.pages import intake, orders, settings

ROUTES = [*intake.ROUTES, *orders.ROUTES, *settings.ROUTES]
