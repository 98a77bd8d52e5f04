from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-26T01:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes; one account per org backs the ledger's upsert"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="credit", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("cr_account", "org_id"),
            index("cr_account", "tenant_id", "org_path"),
            index("cr_entry", "account", "id"),
            index("cr_entry", "account", "kind", "id"),
            index("cr_freeze", "account", "id"),
            index("cr_freeze", "tenant_id", "doc_type", "doc_id"),
            unique_index("cr_doc", "tenant_id", "no"),
            index("cr_doc", "tenant_id", "kind", "id"),
        )
    )
    return manager
