from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-25T22:15:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="system", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("org", "tenant_id", "code"),
            index("org", "tenant_id", "path"),
            unique_index("app_user", "tenant_id", "account_key"),
            index("app_user", "tenant_id", "org"),
            index("app_user", "tenant_id", "id"),
            unique_index("user_role", "user", "role"),
        )
    )
    return manager
