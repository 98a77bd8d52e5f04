from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T05:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work orders: intake org and repair org (issue 20), existing orders both their own org"

STATEMENTS = (
    'ALTER TABLE "wo_order" ADD COLUMN "intake_org_id" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "wo_order" ADD COLUMN "repair_org_id" INTEGER NOT NULL DEFAULT 0',
    'UPDATE "wo_order" SET "intake_org_id" = "org_id", "repair_org_id" = "org_id"',
    index("wo_order", "tenant_id", "intake_org_id"),
    index("wo_order", "tenant_id", "repair_org_id"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(raw_sql(*STATEMENTS))
    return manager
