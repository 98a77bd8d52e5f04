from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-12-07T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the customer's 1–5 rating of a closed work order, from the status page (issue 21)"

STATEMENTS = (
    'ALTER TABLE "wo_order" ADD COLUMN "rating" SMALLINT NULL DEFAULT NULL',
    'ALTER TABLE "wo_order" ADD COLUMN "rated_at" TIMESTAMPTZ NULL DEFAULT NULL',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(raw_sql(*STATEMENTS))
    return manager
