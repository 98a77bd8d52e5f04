import os

from piccolo.conf.apps import AppConfig

from server.quotes.tables import Quote

APP_CONFIG = AppConfig(
    app_name="quotes",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Quote],
)
