"""The outside services a notice goes through, one module per provider and wire format: SMS
gateways (`webhook`: a generic JSON webhook; an Aliyun- or Tencent-style gateway is another
module beside it, listed in SMS) and email (`smtp`). Each module has
`async send(config, message) -> answer` and raises `SendFailed` saying whether a retry may help;
every call has a timeout, and nothing here logs a secret."""

from __future__ import annotations

from dataclasses import dataclass

TIMEOUT = 10.0  # seconds a gateway or SMTP server may take to answer one notice


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class SendFailed(Exception):
    """The provider did not take the notice: `answer` for the record (no secrets), `retry` when a
    later try may succeed (a timeout, a 5xx, a refused connection), not when it was refused."""

    def __init__(self, answer: str, retry: bool) -> None:
        super().__init__(answer)
        self.answer = answer
        self.retry = retry
