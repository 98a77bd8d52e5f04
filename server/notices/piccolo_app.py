import os

from piccolo.conf.apps import AppConfig

from server.notices.tables import Notice, NoticeSettings, NoticeTemplate

APP_CONFIG = AppConfig(
    app_name="notices",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[NoticeSettings, NoticeTemplate, Notice],
)
