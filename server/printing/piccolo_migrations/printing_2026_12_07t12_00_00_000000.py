import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from server.core.clock import now
from server.printing import builtin

ID = "2026-12-07T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the built-in 报价单 print template for the tenants made before quotes printed with templates (issue 21)"

# A tenant made from now on gets it with the other built-ins (services.seed); a tenant already
# there gets it here, as its default 报价单, unless it holds a quote template already. The texts
# go as parameters: their braces are Jinja's.
MISSING = (
    'SELECT "id" FROM "tenant" WHERE "id" NOT IN (SELECT "tenant_id" FROM "pr_template" WHERE "doc_type" = \'quote\')'
)
INSERT = (
    'INSERT INTO "pr_template" ("tenant_id", "name", "doc_type", "mode", "source", "layout", "is_default", '
    '"builtin", "status", "created_by_name", "created_at", "updated_at") '
    "VALUES ({}, {}, 'quote', 'html', {}, {}, TRUE, TRUE, 'active', '系统', {}, {})"
)


async def quote_templates() -> None:
    engine = engine_finder()
    t = next(t for t in builtin.builtin_rows() if t["doc_type"] == "quote" and t["is_default"])
    layout = json.dumps(t["layout"], ensure_ascii=False)
    at = now()
    for tenant in await engine.run_querystring(QueryString(MISSING)):
        await engine.run_querystring(QueryString(INSERT, tenant["id"], t["name"], t["source"], layout, at, at))


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="printing", description=DESCRIPTION)
    manager.add_raw(quote_templates)
    return manager
