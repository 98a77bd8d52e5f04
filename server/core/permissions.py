"""The permission tree: module (menu) → page → action, with dotted codes.

Each domain declares its nodes in its own `permissions.py` with `module()` and `page()`; this
registry is the only list of codes, used by the role editor, the menu and the guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

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
    badge: tuple[str, str] | None = None  # a menu count: (its url, the live topic that changes it)


_modules: dict[str, Node] = {}
_nodes: dict[str, Node] = {}
_published: dict[str, Any] = {}


def publish(domain: str, codes: Any) -> None:
    """Make a domain's `permissions` module readable by templates as `P.<domain>` (a template
    names `P.masterdata.GOODS.export`, never a literal code)."""
    _published[domain] = codes


def published() -> SimpleNamespace:
    return SimpleNamespace(**_published)


def module(code: str, label: str, order: int) -> Node:
    node = _modules.get(code)
    if node is None:
        node = _modules[code] = _nodes[code] = Node(code, label, "module", order=order)
    return node


def page(
    module_code: str,
    code: str,
    label: str,
    url: str | None,
    actions: dict[str, str],
    badge: tuple[str, str] | None = None,
) -> Node:
    """Register a page `module.code` with its actions; `view` guards the page itself. A page
    whose screen is not built yet has no `url`: its codes exist (for the API) but no menu link.
    `badge` shows a count beside the menu link (what waits there), refreshed live."""
    parent = _modules[module_code]
    full = f"{module_code}.{code}"
    if full in _nodes:
        return _nodes[full]
    node = Node(full, label, "page", url=url, order=len(parent.children), badge=badge)
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


ACCESS = ("public", "signed_in", "perm", "devices")
"""What a route handler declares in its `opt`, the one place its access is said: `public`
(anyone), `signed_in` (any person logged in: their own profile, pickers), `perm` (a registered
code, or a tuple of codes any one of which suffices), `devices` (the queue device kinds that may
call it, beside a `perm` or `signed_in` for people)."""


async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: the handler's declared access (see `ACCESS`). A device (queue kiosk or TV)
    may call only the handlers whose `devices` opt names its kind. A coroutine although it awaits
    nothing: Litestar runs a plain function guard in a worker thread, a thread hop per request."""
    opt = handler.opt
    if opt.get("public"):
        return
    ctx = connection.scope.get("state", {}).get("ctx")
    if ctx is None:
        raise Unauthorized()
    if ctx.device_id is not None:
        if ctx.device_kind not in opt.get("devices", ()):
            raise Forbidden("设备令牌只能用于取号机或叫号屏的功能", code="device_forbidden")
        return
    if not any_of(opt.get("perm"), ctx.permissions):
        raise Forbidden()
    if opt.get("perm") is None and not opt.get("signed_in"):
        raise Forbidden()  # a handler for devices only


def any_of(perm: str | tuple[str, ...] | None, granted: frozenset[str]) -> bool:
    """Whether `granted` satisfies a route's `perm` (None: nothing asked)."""
    if perm is None:
        return True
    return any(code in granted for code in ((perm,) if isinstance(perm, str) else perm))


def undeclared(handlers: Iterable[BaseRouteHandler]) -> list[str]:
    """Handlers that do not say who may call them, or name an unknown code: `create_app` refuses
    to start with any (a forgotten declaration would otherwise open the route to every user)."""
    problems = []
    for handler in handlers:
        if handler.handler_name == "options_handler":  # Litestar's own answer to OPTIONS
            continue
        opt = handler.opt
        name = f"{handler.handler_name} {sorted(getattr(handler, 'paths', []))}"
        people = [k for k in ("public", "signed_in", "perm") if opt.get(k)]
        if len(people) > 1:
            problems.append(f"{name}: more than one of {people}")
        elif not people and not opt.get("devices"):
            problems.append(f"{name}: no public/signed_in/perm/devices in opt")
        elif opt.get("perm"):
            codes = (opt["perm"],) if isinstance(opt["perm"], str) else opt["perm"]
            problems += [f"{name}: unregistered permission code {c}" for c in codes if c not in _nodes]
    return problems


def handlers(app) -> list[BaseRouteHandler]:
    """Every route handler of `app` (HTTP, websocket, static), once each."""
    seen: dict[int, BaseRouteHandler] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", None) or [route.route_handler]:
            seen.setdefault(id(handler), handler)
    return list(seen.values())
