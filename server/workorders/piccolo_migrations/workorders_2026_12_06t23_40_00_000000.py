from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-06T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order indexes of the list: newest first within a tenant, orders by customer (phone filter)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(raw_sql(index("wo_order", "tenant_id", "id"), index("wo_order", "tenant_id", "customer")))
    return manager
