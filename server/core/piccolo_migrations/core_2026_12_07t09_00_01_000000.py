from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "jobs: one per idempotency key of a tenant; the drainer finds due jobs by status"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(raw_sql(unique_index("job", "tenant_id", "key"), index("job", "status", "run_after")))
    return manager
