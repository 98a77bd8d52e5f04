import os

from piccolo.conf.apps import AppConfig

from server.system.tables import ApiToken, Org, Role, Tenant, User, UserRole

APP_CONFIG = AppConfig(
    app_name="system",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Tenant, Org, Role, User, UserRole, ApiToken],
)
