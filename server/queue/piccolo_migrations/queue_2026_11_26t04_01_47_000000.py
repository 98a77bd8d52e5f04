from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-26T04:01:47:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue indexes: a live prefix and counter number are unique per org; tickets by org, day and state"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="queue", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            index("q_service", "tenant_id", "org_id"),
            'CREATE UNIQUE INDEX IF NOT EXISTS "q_service_prefix_uniq" '
            'ON "q_service" ("org_id", "prefix") WHERE NOT "deleted"',
            index("q_counter", "tenant_id", "org_id"),
            'CREATE UNIQUE INDEX IF NOT EXISTS "q_counter_number_uniq" '
            'ON "q_counter" ("org_id", "number") WHERE NOT "deleted"',
            unique_index("q_counter_service", "counter", "service"),
            index("q_device", "tenant_id", "org_id"),
            unique_index("q_ticket", "org_id", "service", "day", "seq"),
            index("q_ticket", "org_id", "day", "status", "id"),
            index("q_ticket", "tenant_id", "day"),
        )
    )
    return manager
