"""Piccolo configuration: the engine comes from DATABASE_URL; one Piccolo app per domain."""

from piccolo.conf.apps import AppRegistry

from server.core.db import Timeouts, engine_from_url
from server.settings import database_url

# Migrations may build indexes over large tables: no statement limit for them.
DB = engine_from_url(database_url(), Timeouts(statement=0, idle_in_transaction=0))

APP_REGISTRY = AppRegistry(
    apps=[
        "server.core.piccolo_app",
        "server.system.piccolo_app",
        "server.masterdata.piccolo_app",
        "server.credit.piccolo_app",
        "server.inventory.piccolo_app",
        "server.queue.piccolo_app",
    ]
)
