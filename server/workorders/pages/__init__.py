from server.workorders.pages import intake, orders

ROUTES = [*intake.ROUTES, *orders.ROUTES]
