import os

from piccolo.conf.apps import AppConfig

from server.printing.tables import PrintBackground, PrintTemplate

APP_CONFIG = AppConfig(
    app_name="printing",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[PrintTemplate, PrintBackground],
)
