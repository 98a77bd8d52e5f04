"""The permission tree: module (menu) → page → action, with dotted codes.

Each domain declares its nodes in its own `permissions.py` with `module()` and `page()`; this
registry is the only list of codes, used by the role editor, the menu and the guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.core.errors import Forbidden, Unauthorized


@dataclass
class Node:
    code: str
    label: str
    kind: str  # "module" | "page" | "action"
    url: str | None = None
    order: int = 0
    children: list[Node] = field(default_factory=list)


_modules: dict[str, Node] = {}
_nodes: dict[str, Node] = {}


def module(code: str, label: str, order: int) -> Node:
    node = _modules.get(code)
    if node is None:
        node = _modules[code] = _nodes[code] = Node(code, label, "module", order=order)
    return node


def page(module_code: str, code: str, label: str, url: str | None, actions: dict[str, str]) -> Node:
    """Register a page `module.code` with its actions; `view` guards the page itself. A page
    whose screen is not built yet has no `url`: its codes exist (for the API) but no menu link."""
    parent = _modules[module_code]
    full = f"{module_code}.{code}"
    if full in _nodes:
        return _nodes[full]
    node = Node(full, label, "page", url=url, order=len(parent.children))
    for action, action_label in actions.items():
        child = Node(f"{full}.{action}", action_label, "action")
        node.children.append(child)
        _nodes[child.code] = child
    parent.children.append(node)
    _nodes[full] = node
    return node


def tree() -> list[Node]:
    return sorted(_modules.values(), key=lambda n: n.order)


def all_codes() -> frozenset[str]:
    return frozenset(_nodes)


def exists(code: str) -> bool:
    return code in _nodes


def normalise(codes: Iterable[str]) -> list[str]:
    """Known codes plus their ancestors, sorted: checking an action grants its page and module."""
    result: set[str] = set()
    for code in codes:
        if code not in _nodes:
            continue
        parts = code.split(".")
        for i in range(1, len(parts) + 1):
            result.add(".".join(parts[:i]))
    return sorted(result)


def menu(granted: frozenset[str]) -> list[tuple[Node, list[Node]]]:
    """Modules with the pages whose `view` the user holds; modules without any are left out."""
    result = []
    for mod in tree():
        if mod.code not in granted:
            continue
        pages = [p for p in mod.children if p.url and f"{p.code}.view" in granted]
        result.append((mod, pages))
    return result


def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: every handler needs a logged-in caller unless marked `public`,
    and the permission code in its `perm` opt when it has one. A device (queue kiosk or TV)
    may call only the handlers whose `devices` opt names its kind."""
    if handler.opt.get("public"):
        return
    ctx = connection.scope.get("state", {}).get("ctx")
    if ctx is None:
        raise Unauthorized()
    if ctx.device_id is not None:
        if ctx.device_kind not in handler.opt.get("devices", ()):
            raise Forbidden("设备令牌只能用于取号机或叫号屏的功能", code="device_forbidden")
        return
    code = handler.opt.get("perm")
    if code is not None:
        if code not in _nodes:
            raise RuntimeError(f"unregistered permission code {code}")
        if code not in ctx.permissions:
            raise Forbidden()
