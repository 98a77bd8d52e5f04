"""Tables of credit (SPEC 3). Amounts are integer ten-thousandths (server.core.money)."""

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table


class CreditAccount(Table, tablename="cr_account"):
    """A branch's credit line from its parent: `available = balance − frozen`, never negative.
    Changed only by server.credit.services.ledger, by conditional UPDATE."""

    tenant_id = Integer(index=True)
    org_id = Integer()
    org_path = Varchar(length=400)
    balance = BigInt(default=0)
    frozen = BigInt(default=0)
    updated_at = Timestamptz()


class CreditEntry(Table, tablename="cr_entry"):
    """An immutable ledger entry: what changed the balance or the frozen amount, and why."""

    tenant_id = Integer()
    account = ForeignKey(CreditAccount, on_delete=OnDelete.restrict)
    org_id = Integer()
    kind = Varchar(length=12)  # recharge increase decrease freeze release usage restore refund
    amount = BigInt()  # the change of the balance
    frozen_delta = BigInt(default=0)
    balance_after = BigInt()
    frozen_after = BigInt()
    doc_type = Varchar(length=20)
    doc_id = BigInt(null=True, default=None)
    doc_no = Varchar(length=24)
    line_id = BigInt(null=True, default=None)
    remark = Varchar(length=200, default="")
    user_id = Integer(null=True, default=None)
    user_name = Varchar(length=100, default="")
    created_at = Timestamptz()


class CreditFreeze(Table, tablename="cr_freeze"):
    """An amount held back for a document; open while `remaining` > 0 (used or released since)."""

    tenant_id = Integer()
    account = ForeignKey(CreditAccount, on_delete=OnDelete.restrict)
    org_id = Integer()
    amount = BigInt()
    remaining = BigInt()
    doc_type = Varchar(length=20)
    doc_id = BigInt(null=True, default=None)
    doc_no = Varchar(length=24)
    line_id = BigInt(null=True, default=None)
    user_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class CreditDoc(Table, tablename="cr_doc"):
    """A recharge (【额度充值】) or adjustment (【额度调整】) issued by an org to its descendants."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=12)  # recharge | adjustment
    no = Varchar(length=24)
    org_id = Integer()
    org_path = Varchar(length=400)
    status = Varchar(length=12, default="draft")  # draft submitted confirmed deleted
    remark = Varchar(length=500, default="")
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=100, default="")
    created_at = Timestamptz()
    submitted_by = Integer(null=True, default=None)
    submitted_by_name = Varchar(length=100, default="")
    submitted_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)
    confirmed_by_name = Varchar(length=100, default="")
    confirmed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class CreditDocLine(Table, tablename="cr_doc_line"):
    tenant_id = Integer()
    doc = ForeignKey(CreditDoc, on_delete=OnDelete.restrict, index=True)
    org_id = Integer()
    direction = Varchar(length=8, default="increase")  # increase | decrease
    amount = BigInt()
    remark = Varchar(length=200, default="")
    freeze_id = BigInt(null=True, default=None)
    created_at = Timestamptz()
