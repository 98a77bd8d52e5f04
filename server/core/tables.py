"""Cross-cutting tables: the audit log, document number sequences, idempotency keys and jobs."""

from piccolo.columns import JSON, BigInt, Bytea, Integer, Text, Timestamptz, Varchar
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


class IdempotencyRecord(Table, tablename="idempotency_key"):
    """A request sent with an `Idempotency-Key` and the answer it got, replayed to any retry of it
    for 24 hours (`core.idempotency`). Unique on (scope, key), by a hand-written index."""

    scope = Varchar(length=40)  # whose key: "t{tenant}:u{user}" or "t{tenant}:d{device}"
    key = Varchar(length=100)
    method = Varchar(length=10)
    path = Varchar(length=400)  # for people reading the table; requests are compared by fingerprint
    fingerprint = Varchar(length=64)  # sha256 of the method, the path with its query and the body
    state = Varchar(length=10)  # running | done
    claim = Varchar(length=32)  # the running request's own token: only it may finish or release the key
    status = Integer(null=True)
    headers = Text(null=True)  # JSON [[name, value], ...]: the answer's headers worth replaying
    body = Bytea(null=True)  # NULL on a done row: the answer was too large to keep
    created_at = Timestamptz()  # when the key was claimed: the 24 hours, and a stale claim, count from here


class Job(Table, tablename="job"):
    """A background job (`core.jobs`): written in the transaction that causes it, run after
    commit; its progress and outcome live here, so any process can answer a poll."""

    tenant_id = Integer(index=True)
    name = Varchar(length=60)  # the registered job function
    status = Varchar(length=10)  # a jobs.JobStatus
    done = Integer(default=0)  # progress: units (rows…) processed of `total`
    total = Integer(default=0)
    actor = JSON()  # the Ctx of whoever started it: the job acts with their rights of that moment
    args = JSON(default="{}")
    data = Bytea(null=True)  # an upload the job reads (bounded by its service); dropped once run
    result = JSON(null=True, default=None)
    error = Text(null=True)  # why it failed, for the person who started it
    attempts = Integer(default=0)
    max_attempts = Integer(default=1)  # a retryable failure queues it again until this many tries
    run_after = Timestamptz(null=True, default=None)  # a retry waits until then (the backoff)
    key = Varchar(length=120, null=True, default=None)  # one job per effect: a second enqueue finds the first
    created_by = Integer(null=True)
    created_at = Timestamptz()
    started_at = Timestamptz(null=True)
    finished_at = Timestamptz(null=True)
    updated_at = Timestamptz()


class Upload(Table, tablename="upload"):
    """An uploaded file (`core.uploads`): its bytes, what they are (type sniffed from them, size,
    sha256, an image's dimensions) and what it belongs to (`owner` names the kind of row, e.g.
    "shipment_discrepancy", `owner_id` the row)."""

    tenant_id = Integer(index=True)
    owner = Varchar(length=40)
    owner_id = Integer(null=True, default=None)
    filename = Varchar(length=120)
    content_type = Varchar(length=60)
    size = Integer()
    sha256 = Varchar(length=64)
    width = Integer(default=0)
    height = Integer(default=0)
    data = Bytea()
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
