from server.workorders.pages import intake

ROUTES = [*intake.ROUTES]
