from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T08:17:23:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue booking indexes: one slot row and one code per org and day; call-next by lane"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="queue", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("q_slot", "org_id", "day", "slot"),
            unique_index("q_appointment", "org_id", "day", "code"),
            index("q_appointment", "tenant_id", "org_id", "day"),
            index("q_appointment", "org_id", "day", "phone"),
            index("q_ticket", "org_id", "day", "status", "lane", "id"),
        )
    )
    return manager
