"""Importing this module registers every domain: permission codes, live topics and hooks.
The app, the CLI and the tests import it once, so nothing depends on import order."""

from server.credit import permissions as _credit_permissions  # noqa: F401
from server.credit.services import documents as _credit_documents  # noqa: F401  (live topics)
from server.credit.services import ledger as _ledger  # noqa: F401  (live topics)
from server.inventory import permissions as _inventory_permissions  # noqa: F401
from server.inventory.services import documents as _documents  # noqa: F401  (live topics)
from server.masterdata import permissions as _masterdata_permissions  # noqa: F401
from server.masterdata.services import dictionaries as _dictionaries  # noqa: F401  (seeds new tenants)
from server.masterdata.services import goods as _goods  # noqa: F401  (seeds goods types)
from server.queue import permissions as _queue_permissions  # noqa: F401
from server.queue.services import setup as _queue_setup  # noqa: F401  (live topics)
from server.system import permissions as _system_permissions  # noqa: F401
