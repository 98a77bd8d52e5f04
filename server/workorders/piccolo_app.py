import os

from piccolo.conf.apps import AppConfig

from server.workorders.tables import (
    Customer,
    WorkOrder,
    WorkOrderFaultReason,
    WorkOrderLine,
    WorkOrderSettings,
    WorkOrderStatusCount,
    WorkOrderStatusLog,
)

APP_CONFIG = AppConfig(
    app_name="workorders",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Customer,
        WorkOrder,
        WorkOrderFaultReason,
        WorkOrderLine,
        WorkOrderStatusLog,
        WorkOrderSettings,
        WorkOrderStatusCount,
    ],
)
