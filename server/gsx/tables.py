"""Tables of the GSX integration (gsx_*). Secrets (`*_enc`) are Fernet tokens
(server.core.secrets): never selected into an answer, an audit row or an export."""

from piccolo.columns import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class GsxSettings(Table, tablename="gsx_settings"):
    """One row per tenant: where GSX is and who the tenant is to Apple. The feature is shown
    only when `enabled` and complete (server.gsx.services.settings.configured)."""

    tenant_id = Integer()
    environment = Varchar(length=12, default="uat")  # uat | production
    base_url = Varchar(length=300, default="")
    auth_url = Varchar(length=300, default="")
    sold_to = Varchar(length=20, default="")
    ship_to = Varchar(length=20, default="")
    ship_to_by_org = JSON(default="{}")  # {"<org id>": "<ship-to>"}: an org's own ship-to
    certificate_enc = Text(default="")
    key_enc = Text(default="")
    certificate_subject = Varchar(length=300, default="")
    certificate_expires_at = Timestamptz(null=True, default=None)
    server_ca_pem = Text(default="")  # a private CA to trust (the fake, a proxy); empty = the system's
    status_map = JSON(default="{}")  # {"<GSX status code>": "<work-order action>"}
    enabled = Boolean(default=False)
    updated_by_name = Varchar(length=100, default="")
    updated_at = Timestamptz()


class GsxLink(Table, tablename="gsx_link"):
    """A Weifu user's link to their Apple account: the auth token (encrypted) and when it was
    last used — GSX forgets a token after 30 minutes idle, so an older one is refreshed first."""

    tenant_id = Integer()
    user_id = Integer()
    apple_id = Varchar(length=200)
    token_enc = Text(default="")
    status = Varchar(length=12, default="linked")  # linked | expired
    token_used_at = Timestamptz(null=True, default=None)
    refresh_claimed_until = Timestamptz(null=True, default=None)  # a process exchanging the token
    linked_at = Timestamptz()


class GsxCall(Table, tablename="gsx_call"):
    """One call to GSX, for 【GSX 调用记录】: who, what, how it ended. No body, no token."""

    tenant_id = Integer()
    user_id = Integer(null=True, default=None)
    user_name = Varchar(length=100, default="")
    endpoint = Varchar(length=100)
    http_status = Integer(null=True, default=None)  # none: no answer (timeout, TLS, circuit open)
    outcome = Varchar(length=32, default="ok")  # ok | an error code
    message = Varchar(length=300, default="")
    duration_ms = Integer(default=0)
    attempts = Integer(default=1)
    trace_id = Varchar(length=64, default="")
    work_order_id = Integer(null=True, default=None)
    created_at = Timestamptz()


class GsxOrder(Table, tablename="gsx_order"):
    """What GSX said about one work order: its coverage answer and the GSX repair made for it.
    `poll_claimed_until` is the poller's claim (a conditional UPDATE): one poll at a time."""

    tenant_id = Integer()
    work_order_id = Integer()
    serial_no = Varchar(length=64, default="")
    coverage = JSON(null=True, default=None)
    coverage_at = Timestamptz(null=True, default=None)
    coverage_by_name = Varchar(length=100, default="")
    repair_id = Varchar(length=20, default="")
    repair_type = Varchar(length=8, default="")
    repair_status = Varchar(length=20, default="")
    repair_status_description = Varchar(length=200, default="")
    outcome = JSON(null=True, default=None)  # [{action, code, message, acknowledged}]
    acknowledged_by_name = Varchar(length=100, default="")
    acknowledged_at = Timestamptz(null=True, default=None)
    repair_created_by = Integer(null=True, default=None)  # the poller acts as them (their GSX link)
    repair_created_by_name = Varchar(length=100, default="")
    repair_created_at = Timestamptz(null=True, default=None)
    history = JSON(default="[]")  # [{at, status, description}]: the order page's GSX timeline
    next_poll_at = Timestamptz(null=True, default=None)
    poll_failures = Integer(default=0)
    poll_claimed_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class GsxNews(Table, tablename="gsx_news"):
    """【GSX 公告】 as last read from GSX, one row per tenant: every process serves it until
    `fetched_at` is older than services.NEWS_LIFE."""

    tenant_id = Integer()
    items = JSON(default="[]")
    fetched_at = Timestamptz(null=True, default=None)
