import os

from piccolo.conf.apps import AppConfig

from server.inventory.tables import GoodsCost, Stock, StockDoc, StockDocLine, StockMove

APP_CONFIG = AppConfig(
    app_name="inventory",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Stock, StockMove, GoodsCost, StockDoc, StockDocLine],
)
