from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order index by org, status and time in status (【看板】 of an org's subtree: counts from the index)"

# (tenant, org_id, status) becomes (tenant, org_id, status, status_at): the same prefix for the
# list's org and status filters, and it covers 【看板】's counts of a subtree's orders per status
# and of its red (SLA) ones, scoped by `org_id IN (subtree)`.
STATEMENTS = (
    index("wo_order", "tenant_id", "org_id", "status", "status_at"),
    'DROP INDEX IF EXISTS "wo_order_tenant_id_org_id_status_idx"',
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(raw_sql(*STATEMENTS))
    return manager
