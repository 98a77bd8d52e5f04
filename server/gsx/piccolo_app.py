import os

from piccolo.conf.apps import AppConfig

from server.gsx.tables import GsxCall, GsxLink, GsxNews, GsxOrder, GsxSettings

APP_CONFIG = AppConfig(
    app_name="gsx",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[GsxSettings, GsxLink, GsxCall, GsxOrder, GsxNews],
)
