import os

from piccolo.conf.apps import AppConfig

from server.queue.tables import (
    QueueAppointment,
    QueueBooking,
    QueueCounter,
    QueueCounterService,
    QueueDevice,
    QueueService,
    QueueSlot,
    QueueTicket,
)

APP_CONFIG = AppConfig(
    app_name="queue",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        QueueService,
        QueueCounter,
        QueueCounterService,
        QueueDevice,
        QueueTicket,
        QueueBooking,
        QueueSlot,
        QueueAppointment,
    ],
)
