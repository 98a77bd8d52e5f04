from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Integer, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "gsx: news kept per tenant for every process (gsx_news), one token exchange at a time (gsx_link claim)"

# (table class, table, column, class, default, null)
COLUMNS = [
    ("GsxNews", "gsx_news", "tenant_id", Integer, 0, False),
    ("GsxNews", "gsx_news", "items", JSON, "[]", False),
    ("GsxNews", "gsx_news", "fetched_at", Timestamptz, None, True),
    ("GsxLink", "gsx_link", "refresh_claimed_until", Timestamptz, None, True),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gsx", description=DESCRIPTION)
    manager.add_table(class_name="GsxNews", tablename="gsx_news", schema=None, columns=None)
    for class_name, table, name, column_class, default, null in COLUMNS:
        manager.add_column(
            table_class_name=class_name,
            tablename=table,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
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
