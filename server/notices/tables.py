"""Tables of customer notices (notice_*). Secrets (`*_enc`) are Fernet tokens
(server.core.secrets): never selected into an answer, an audit row or a page."""

from piccolo.columns import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class NoticeSettings(Table, tablename="notice_settings"):
    """One row per tenant: the SMS gateway (a JSON webhook) and the SMTP server."""

    tenant_id = Integer()
    sms_enabled = Boolean(default=False)
    sms_provider = Varchar(length=20, default="webhook")  # a module of server.notices.providers
    sms_url = Varchar(length=300, default="")
    sms_headers = JSON(default="{}")  # {name: value}, shown back
    sms_secret_headers_enc = Text(default="")  # {name: value} as encrypted JSON, never shown back
    sms_secret_header_names = JSON(default="[]")  # their names, so the page can say which are set
    sms_body = Text(default="")  # JSON whose string values are templates (`{{ phone }}`, `{{ text }}`)
    email_enabled = Boolean(default=False)
    smtp_host = Varchar(length=200, default="")
    smtp_port = Integer(default=587)
    smtp_security = Varchar(length=10, default="starttls")  # a states.SmtpSecurity
    smtp_user = Varchar(length=200, default="")
    smtp_password_enc = Text(default="")
    smtp_from = Varchar(length=200, default="")
    updated_by_name = Varchar(length=100, default="")
    updated_at = Timestamptz()


class NoticeTemplate(Table, tablename="notice_template"):
    """The text of one event's notice on one channel (unique per tenant, event, channel)."""

    tenant_id = Integer()
    event = Varchar(length=20)  # a states.Event
    channel = Varchar(length=10)  # a states.Channel
    enabled = Boolean(default=True)
    subject = Varchar(length=200, default="")  # email only
    body = Text(default="")
    updated_by_name = Varchar(length=100, default="")
    updated_at = Timestamptz()


class Notice(Table, tablename="notice"):
    """One notice to one customer on one channel: what was sent, to whom, how it went. `key`
    (order, event, channel) makes an event's notice one row however often the move is seen."""

    tenant_id = Integer()
    key = Varchar(length=80)
    work_order_id = Integer()
    work_order_no = Varchar(length=24, default="")
    org_path = Varchar(length=400, default="")  # the order's: who may see the notice
    customer_name = Varchar(length=50, default="")
    event = Varchar(length=20)
    channel = Varchar(length=10)
    recipient = Varchar(length=200)
    template_id = Integer(null=True, default=None)
    subject = Varchar(length=200, default="")
    body = Text(default="")
    status = Varchar(length=10)  # a states.NoticeStatus
    attempts = Integer(default=0)
    answer = Varchar(length=500, default="")  # the provider's last answer (or why it failed)
    resends = Integer(default=0)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
