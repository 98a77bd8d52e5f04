"""Secrets kept for a tenant (GSX certificates and tokens, later SMS/SMTP passwords) are stored
encrypted with Fernet, its key derived from SECRET_KEY by HKDF: a copy of the database alone
reveals none of them. Nothing here logs; callers never render a decrypted value back."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.core.errors import BusinessError

_fernet: Fernet | None = None
_bound_key: str | None = None


def _derive(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"weifu-secrets", info=b"tenant-secrets-v1").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


def bind(secret_key: str) -> None:
    """The app binds its SECRET_KEY at start; a CLI or test without an app uses the environment's."""
    global _fernet, _bound_key
    if secret_key != _bound_key:
        _fernet, _bound_key = _derive(secret_key), secret_key


def _box() -> Fernet:
    if _fernet is None:
        from server.settings import _secret_key

        bind(_secret_key())
    assert _fernet is not None
    return _fernet


def encrypt(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The plain value; a value encrypted under another SECRET_KEY is refused in Chinese (the
    key was rotated: the secret must be entered again)."""
    try:
        return _box().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise BusinessError("已保存的密钥无法解密（SECRET_KEY 已更换），请重新填写", code="secret_unreadable") from None
