from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-12-07T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work orders sent to a repair centre (issue 20): the other org's path, when sent, what was billed"

STATEMENTS = (
    """ALTER TABLE "wo_order" ADD COLUMN "peer_org_path" VARCHAR(400) NOT NULL DEFAULT ''""",
    'ALTER TABLE "wo_order" ADD COLUMN "sent_at" TIMESTAMPTZ NULL DEFAULT NULL',
    'ALTER TABLE "wo_order" ADD COLUMN "carry_charge" BIGINT NOT NULL DEFAULT 0',
    # the few sent orders, read by the org of the two that does not hold the device
    """CREATE INDEX IF NOT EXISTS "wo_order_peer_org_path" ON "wo_order" ("tenant_id", "peer_org_path") """
    """WHERE "peer_org_path" <> ''""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(raw_sql(*STATEMENTS))
    return manager
