"""Named states of credit: a line's direction and a ledger entry's kind, with their labels.
Documents' states are the shared `server.core.documents.DocStatus`."""

from enum import StrEnum


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"

    @property
    def label(self) -> str:
        return {"increase": "增加", "decrease": "减少"}[self.value]


class EntryKind(StrEnum):
    RECHARGE = "recharge"
    INCREASE = "increase"
    DECREASE = "decrease"
    FREEZE = "freeze"
    RELEASE = "release"
    USAGE = "usage"
    RESTORE = "restore"
    REFUND = "refund"

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self.value]


ENTRY_LABELS = {
    "recharge": "充值",
    "increase": "调整增加",
    "decrease": "调整减少",
    "freeze": "冻结",
    "release": "释放",
    "usage": "使用",
    "restore": "使用撤回",
    "refund": "退款",
}
