from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-12T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a copy of the goods' safety stock on each stock row (issue 18): inv_stock.safety_stock"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Stock",
        tablename="inv_stock",
        column_name="safety_stock",
        db_column_name="safety_stock",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
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
