from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-06T16:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency keys: unique per caller and key (the claim is an INSERT that fails on it); pruned by age"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(raw_sql(unique_index("idempotency_key", "scope", "key"), index("idempotency_key", "created_at")))
    return manager
