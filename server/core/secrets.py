"""Secrets kept for a tenant (GSX certificates and tokens, later SMS/SMTP passwords) are stored
encrypted with Fernet, its key derived from SECRET_KEY by HKDF: a copy of the database alone
reveals none of them. Nothing here logs; callers never render a decrypted value back."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.core.errors import BusinessError

_fernet: Fernet | None = None
_bound_key: str | None = None
_signing: bytes | None = None  # HMAC key for `sign`, derived apart from the sealing key


def _derive(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"weifu-secrets", info=b"tenant-secrets-v1").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


def bind(secret_key: str) -> None:
    """The app binds its SECRET_KEY at start; a CLI or test without an app uses the environment's."""
    global _fernet, _bound_key, _signing
    if secret_key != _bound_key:
        _fernet, _bound_key = _derive(secret_key), secret_key
        _signing = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"weifu-signing", info=b"sign-v1").derive(
            secret_key.encode()
        )


def _box() -> Fernet:
    if _fernet is None:
        from server.settings import _secret_key

        bind(_secret_key())
    assert _fernet is not None
    return _fernet


def sign(purpose: str, message: str) -> str:
    """A keyed MAC of `message` for `purpose` (hex): what a browser keeps as proof it was told
    something (a status page's phone digits) without the server keeping a session for it."""
    _box()
    assert _signing is not None
    return hmac.new(_signing, f"{purpose}\0{message}".encode(), hashlib.sha256).hexdigest()


def verify(purpose: str, message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(purpose, message), signature or "")


def encrypt(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The plain value; a value encrypted under another SECRET_KEY is refused in Chinese (the
    key was rotated: the secret must be entered again)."""
    try:
        return _box().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        raise BusinessError("已保存的密钥无法解密（SECRET_KEY 已更换），请重新填写", code="secret_unreadable") from None
