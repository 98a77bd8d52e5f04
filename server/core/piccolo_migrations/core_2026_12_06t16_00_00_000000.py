from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency keys: a request sent with an Idempotency-Key and its answer (issue 12, item 7)"

# (name, class, default, null, extra params), as Piccolo's auto migration writes them one by one
COLUMNS = [
    ("scope", Varchar, "", False, {"length": 40}),
    ("key", Varchar, "", False, {"length": 100}),
    ("method", Varchar, "", False, {"length": 10}),
    ("path", Varchar, "", False, {"length": 400}),
    ("fingerprint", Varchar, "", False, {"length": 64}),
    ("state", Varchar, "", False, {"length": 10}),
    ("claim", Varchar, "", False, {"length": 32}),
    ("status", Integer, 0, True, {}),
    ("headers", Text, "", True, {}),
    ("body", Bytea, b"", True, {}),
    ("created_at", Timestamptz, TimestamptzNow(), False, {}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="IdempotencyRecord", tablename="idempotency_key", schema=None, columns=None)
    for name, column_class, default, null, extra in COLUMNS:
        manager.add_column(
            table_class_name="IdempotencyRecord",
            tablename="idempotency_key",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
                **extra,
                "default": default,
                "null": null,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
