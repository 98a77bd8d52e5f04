"""Absolute links to the site for what leaves it (a receipt's QR code, a notice): made from the
public address (`WEIFU_PUBLIC_URL`), never from the request, so a link printed at the front desk
works from a customer's phone whatever address the desk used."""

from __future__ import annotations

_base: str | None = None


def bind(public_url: str) -> None:
    global _base
    _base = public_url.rstrip("/")


def absolute(path: str) -> str:
    """`path` ("/s/…") on the public address; a CLI or test without an app uses the environment's."""
    if _base is None:
        from server.settings import public_url

        bind(public_url())
    return f"{_base}{path}"


def status_page(token: str) -> str:
    """The customer's status page of a work order (server.selfservice)."""
    return absolute(f"/s/{token}")
