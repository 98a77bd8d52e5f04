import os

from piccolo.conf.apps import AppConfig

from server.core.tables import AuditLog, DocSequence, IdempotencyRecord, Job, Upload

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[AuditLog, DocSequence, IdempotencyRecord, Job, Upload],
)
