from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-25T22:17:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("doc_sequence", "tenant_id", "doc_type", "day"),
            index("audit_log", "tenant_id", "created_at"),
        )
    )
    return manager
