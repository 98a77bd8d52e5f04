from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T09:00:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "notices indexes: one settings row per tenant, one text per event and channel, one notice per key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notices", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("notice_settings", "tenant_id"),
            unique_index("notice_template", "tenant_id", "event", "channel"),
            unique_index("notice", "tenant_id", "key"),
            index("notice", "tenant_id", "work_order_id"),
            index("notice", "tenant_id", "created_at"),
        )
    )
    return manager
