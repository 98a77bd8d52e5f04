"""Permission codes of 【看板】 (module `dashboard`, first in the menu: it is the managers' landing
page). Each section of the board also needs the view permission of the list it summarises."""

import sys

from server.core.permissions import module, page, publish

module("dashboard", "看板", 0)
page("dashboard", "board", "看板", "/dashboard", {"view": "查看"})

VIEW = "dashboard.board.view"

publish("dashboard", sys.modules[__name__])
