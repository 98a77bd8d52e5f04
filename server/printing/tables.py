"""Tables of printing: the tenant's print templates and the form images 套打 lays fields on."""

from piccolo.columns import Boolean, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class PrintTemplate(Table, tablename="pr_template"):
    """A print layout of one document type. `layout` is the JSON of the paper, margins, overlay
    fields, line block and printer offset (one shape, read and checked by the service); `source`
    the Jinja of an HTML template. One default per (tenant, doc_type) among active rows: a partial
    unique index holds it."""

    tenant_id = Integer(index=True)
    name = Varchar(length=100)
    doc_type = Varchar(length=24)  # DocType
    mode = Varchar(length=12, default="html")  # Mode
    source = Text(default="")
    layout = Text(default="{}")
    background_id = Integer(null=True, default=None)
    is_default = Boolean(default=False)
    builtin = Boolean(default=False)  # seeded with the tenant (restorable by a new copy)
    status = Varchar(length=16, default="active")  # RowStatus: soft delete
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class PrintBackground(Table, tablename="pr_background"):
    """A scan or photo of a pre-printed form, shown behind an overlay template on screen only."""

    tenant_id = Integer(index=True)
    content_type = Varchar(length=40)
    width_px = Integer(default=0)
    height_px = Integer(default=0)
    data = Bytea()
    created_at = Timestamptz()
