import os

from piccolo.conf.apps import AppConfig

from server.credit.tables import CreditAccount, CreditDoc, CreditDocLine, CreditEntry, CreditFreeze

APP_CONFIG = AppConfig(
    app_name="credit",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[CreditAccount, CreditEntry, CreditFreeze, CreditDoc, CreditDocLine],
)
