from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "built-in intake and closing receipts: the QR code opens the customer's status page (issue 21)"

# The tenants' own copies of the built-in receipts, as seeded: their QR code held the order's
# number, it now holds the status page's link (server.printing.builtin); the rest of a copy,
# edited or not, is left alone. The texts go as parameters: their braces are Jinja's.
OLD = "{{ doc.no | qr(2) }}"
NEW = '{{ doc.status_url | qr(2) }}<div class="qr-hint">扫码查进度</div>'
STATEMENT = (
    'UPDATE "pr_template" SET "source" = REPLACE("source", {}, {}) '
    "WHERE \"builtin\" AND \"doc_type\" IN ('intake_receipt', 'closing_receipt')"
)


async def receipts() -> None:
    await engine_finder().run_querystring(QueryString(STATEMENT, OLD, NEW))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="printing", description=DESCRIPTION)
    manager.add_raw(receipts)
    return manager
