from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql, unique_index

ID = "2026-12-07T08:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "gsx index: one news row per tenant (the upsert's target)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gsx", description=DESCRIPTION)
    manager.add_raw(raw_sql(unique_index("gsx_news", "tenant_id")))
    return manager
