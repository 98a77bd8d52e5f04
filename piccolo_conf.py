"""Piccolo configuration: the engine comes from DATABASE_URL; the apps are `server.domains`'."""

from server.core.db import Timeouts, engine_from_url
from server.domains import APP_REGISTRY
from server.settings import database_url

# Migrations may build indexes over large tables: no statement limit for them.
DB = engine_from_url(database_url(), Timeouts(statement=0, idle_in_transaction=0))

__all__ = ["APP_REGISTRY", "DB"]
