import os

from piccolo.conf.apps import AppConfig

from server.logistics.tables import Order, OrderLine, Shipment, ShipmentDevice, ShipmentDiscrepancy, ShipmentLine

APP_CONFIG = AppConfig(
    app_name="logistics",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Order, OrderLine, Shipment, ShipmentLine, ShipmentDiscrepancy, ShipmentDevice],
)
