"""One permission mechanism (issue 13): every route says who may call it, on the route itself;
the app refuses to start when one does not; a person holding no permission is refused on every
route that asks for one; and every permission code of a built screen guards some route."""

from __future__ import annotations

import re

import pytest
from litestar import get

from server.core import permissions
from tests.conftest import api_login
from tests.system.helpers import PASSWORD, service_user

PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _concrete(path: str) -> str:
    return PARAM.sub(lambda m: "1" if m.group(2) == "int" else "x", path)


def _guarded(app):
    """(method, path) of every HTTP route that asks for a permission code."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            opt = handler.opt
            if opt.get("public") or opt.get("signed_in") or handler.handler_name == "options_handler":
                continue
            for method in sorted(handler.http_methods):
                yield method, route.path, handler


def test_every_route_declares_who_may_call_it(app):
    assert permissions.undeclared(permissions.handlers(app)) == []


def test_the_app_refuses_to_start_with_an_undeclared_route(settings, monkeypatch):
    from server import app as app_module

    @get("/forgotten", include_in_schema=False, sync_to_thread=False)
    def forgotten() -> str:
        return "open to everyone by mistake"

    monkeypatch.setattr(app_module.system_pages, "ROUTES", [*app_module.system_pages.ROUTES, forgotten])
    with pytest.raises(RuntimeError, match="forgotten"):
        app_module.create_app(settings)


async def test_a_person_without_permissions_is_refused_on_every_guarded_route(app, client, tenant):
    await service_user(tenant, "nobody", tenant.org_id, "hq", [])
    headers = await api_login(client, "nobody@ACME", PASSWORD)
    routes = list(_guarded(app))
    assert len(routes) > 150
    wrong = []
    for method, path, _ in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(method, _concrete(path), headers=headers, json=body)
        if response.status_code != 403:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


def test_every_permission_code_of_a_built_screen_guards_a_route(app):
    used: set[str] = set()
    for handler in permissions.handlers(app):
        perm = handler.opt.get("perm")
        used.update((perm,) if isinstance(perm, str) else perm or ())
    unguarded = [
        action.code
        for module in permissions.tree()
        for page in module.children
        if page.url
        for action in page.children
        if action.code not in used
    ]
    assert unguarded == []


def _template_lines_matching(pattern: re.Pattern) -> list[str]:
    from server.settings import ROOT

    return [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "templates").rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]


def test_templates_never_read_a_code_as_a_dict_method():
    """`P.masterdata.GOODS.update` is dict.update in Jinja, not the code (always truthy): codes
    whose action is a dict method's name are read with a subscript, `GOODS["update"]`."""
    methods = "update|items|keys|values|get|pop|copy|clear|setdefault"
    assert _template_lines_matching(re.compile(rf"P\.\w+\.\w+\.({methods})\b")) == []


def test_templates_name_permission_codes_through_P_never_literally():
    literal = re.compile(
        r"""can\(ctx,\s*["']|["'](system|masterdata|inventory|credit|queue|workorders)\.\w+\.\w+["']"""
    )
    assert _template_lines_matching(literal) == []
