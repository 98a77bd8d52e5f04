from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-06T22:00:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order indexes: customers by phone, orders by the list's filters, one number per tenant"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            index("wo_customer", "tenant_id", "phone"),
            index("wo_customer", "tenant_id", "name"),
            unique_index("wo_order", "tenant_id", "no"),
            index("wo_order", "tenant_id", "org_id", "status"),
            index("wo_order", "tenant_id", "org_path", "created_at"),
            index("wo_order", "tenant_id", "serial_no"),
            index("wo_order", "customer"),
            index("wo_order", "technician_id", "status"),
            unique_index("wo_order_fault_reason", "work_order", "fault_reason_id"),
        )
    )
    return manager
