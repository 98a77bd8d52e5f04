from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T01:21:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "order indexes: numbers, the applicant's list and the parent's review list"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="logistics", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("lg_order", "tenant_id", "no"),
            index("lg_order", "tenant_id", "org_id", "id"),
            index("lg_order", "tenant_id", "parent_org_id", "status", "id"),
        )
    )
    return manager
