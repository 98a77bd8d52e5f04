from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T04:41:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "gsx indexes: one settings row per tenant, one link per user, one GSX record per order"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gsx", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("gsx_settings", "tenant_id"),
            unique_index("gsx_link", "tenant_id", "user_id"),
            unique_index("gsx_order", "tenant_id", "work_order_id"),
            index("gsx_call", "tenant_id", "created_at"),
            index("gsx_order", "next_poll_at"),
        )
    )
    return manager
