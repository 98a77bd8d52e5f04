"""Importing this module registers every domain: its Piccolo app (tables, migrations),
permission codes, live topics and hooks. The app, the CLI, piccolo_conf and the tests import it,
so nothing depends on import order, and core imports no domain."""

from piccolo.conf.apps import AppRegistry

from server.core import db
from server.credit import permissions as _credit_permissions  # noqa: F401
from server.credit import usage as _credit_usage  # noqa: F401  (what uses an org)
from server.credit.services import documents as _credit_documents  # noqa: F401  (live topics)
from server.credit.services import ledger as _ledger  # noqa: F401  (live topics)
from server.dashboard import permissions as _dashboard_permissions  # noqa: F401
from server.dashboard import services as _dashboard  # noqa: F401  (what a board device hears; the landing page)
from server.gsx import permissions as _gsx_permissions  # noqa: F401
from server.inventory import permissions as _inventory_permissions  # noqa: F401
from server.inventory import usage as _inventory_usage  # noqa: F401  (what uses goods, warehouses, orgs)
from server.inventory.services import documents as _documents  # noqa: F401  (live topics)
from server.logistics import permissions as _logistics_permissions  # noqa: F401
from server.logistics.services import orders as _lg_orders  # noqa: F401  (live topics)
from server.logistics.services import shipments as _shipments  # noqa: F401  (live topics)
from server.masterdata import permissions as _masterdata_permissions  # noqa: F401
from server.masterdata.services import dictionaries as _dictionaries  # noqa: F401  (seeds new tenants)
from server.masterdata.services import goods as _goods  # noqa: F401  (seeds goods types)
from server.masterdata.services import warehouses as _warehouses  # noqa: F401  (what uses an org)
from server.notices import permissions as _notices_permissions  # noqa: F401
from server.notices import services as _notices  # noqa: F401  (seeds new tenants; notices on work-order moves; its job)
from server.printing import permissions as _printing_permissions  # noqa: F401
from server.printing import services as _printing  # noqa: F401  (seeds new tenants)
from server.queue import permissions as _queue_permissions  # noqa: F401
from server.queue.services import setup as _queue_setup  # noqa: F401  (live topics)
from server.quotes import permissions as _quotes_permissions  # noqa: F401
from server.quotes import services as _quotes  # noqa: F401  (the completion check, the order's card)
from server.selfservice import services as _selfservice  # noqa: F401  (a status page hears its order's moves)
from server.system import permissions as _system_permissions  # noqa: F401
from server.workorders import permissions as _workorders_permissions  # noqa: F401
from server.workorders.services import orders as _orders  # noqa: F401  (live topics)

APP_REGISTRY = AppRegistry(
    apps=[
        "server.core.piccolo_app",
        "server.system.piccolo_app",
        "server.masterdata.piccolo_app",
        "server.credit.piccolo_app",
        "server.inventory.piccolo_app",
        "server.queue.piccolo_app",
        "server.workorders.piccolo_app",
        "server.logistics.piccolo_app",
        "server.printing.piccolo_app",
        "server.gsx.piccolo_app",
        "server.quotes.piccolo_app",
        "server.notices.piccolo_app",
    ]
)
db.register_tables([t for config in APP_REGISTRY.app_configs.values() for t in config.table_classes])
