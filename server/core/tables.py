"""Cross-cutting tables: the audit log and document number sequences."""

from piccolo.columns import JSON, BigInt, Integer, Timestamptz, Varchar
from piccolo.table import Table


class AuditLog(Table, tablename="audit_log"):
    tenant_id = Integer(index=True)
    user_id = Integer(null=True)
    user_name = Varchar(length=100)
    org_path = Varchar(length=400)  # the actor's org: a user sees the log of their own subtree
    action = Varchar(length=40)  # create | update | delete | <transition name>
    entity = Varchar(length=40, index=True)
    entity_id = BigInt(null=True)
    summary = Varchar(length=200)
    before = JSON(null=True)
    after = JSON(null=True)
    created_at = Timestamptz(index=True)


class DocSequence(Table, tablename="doc_sequence"):
    """Last number given per tenant, document type and day; bumped by one atomic UPSERT."""

    tenant_id = Integer()
    doc_type = Varchar(length=20)
    day = Varchar(length=8)
    last_no = Integer(default=0)
