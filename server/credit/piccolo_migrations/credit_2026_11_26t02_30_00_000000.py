from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-11-26T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "open freezes of an account: a partial index, so the frozen records stay instant on a long history"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="credit", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            'CREATE INDEX IF NOT EXISTS "cr_freeze_account_id_open_idx" ON "cr_freeze" ("account", "id") '
            'WHERE "closed_at" IS NULL'
        )
    )
    return manager
