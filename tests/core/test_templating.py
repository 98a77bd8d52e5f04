"""The Jinja environment's speed settings (server/core/templating.py) read templates exactly as
Jinja's defaults do."""

from __future__ import annotations

from jinja2 import Environment

from server.core.templating import _fast_getattr


def _env() -> Environment:
    env = Environment()
    env.getattr = _fast_getattr(env)
    return env


def test_a_dicts_keys_read_as_attributes_and_its_methods_stay_methods():
    source = "{{ row.name }}|{{ row.missing }}|{{ row.items()|list|length }}|{{ row['items']|length }}"
    row = {"name": "屏幕", "items": [1, 2]}
    # `items` is a dict method: Jinja's order (the attribute first) stays for it
    assert _env().from_string(source).render(row=row) == "屏幕||2|2"
    assert Environment().from_string(source).render(row=row) == "屏幕||2|2"


def test_other_objects_and_dict_subclasses_keep_jinjas_lookup():
    class Row(dict):
        @property
        def name(self) -> str:
            return "attribute"

    class Obj:
        name = "obj"

    env = _env()
    assert (
        env.from_string("{{ a.name }} {{ b.name }} {{ c.missing is defined }}").render(a=Row(name="key"), b=Obj(), c={})
        == "attribute obj False"
    )


def test_the_app_environment_uses_it(app):
    env = app.template_engine.engine
    assert env.getattr({"x": 1}, "x") == 1 and env.from_string("{{ r.x }}").render(r={"x": 2}) == "2"
    assert not env.auto_reload  # no stat() of each template a page uses: `serve --reload` restarts instead


def test_the_menu_is_rendered_once_per_permissions_and_active_pages(app):
    """base.html's modules come from `web.menu_html`, kept per (permissions, active pages): it
    must still follow the permissions and the path of each page."""
    from server.core import permissions, web

    env = app.template_engine.engine
    everything = permissions.all_codes()
    page = web.menu_html(env, everything, "/workorders/17")
    assert '<a class="menu-link active" href="/workorders" aria-current="page">工单处理' in page
    assert 'href="/workorders/intake" aria-current' not in page
    assert web.menu_html(env, everything, "/workorders/9") is page  # the same active pages: kept
    elsewhere = web.menu_html(env, everything, "/inventory/stock")
    assert "工单处理" in elsewhere and 'href="/workorders" aria-current' not in elsewhere
    only = frozenset(permissions.normalise(["workorders.mine.view"]))
    mine = web.menu_html(env, only, "/workorders/mine")
    assert 'href="/workorders/mine" aria-current="page">我的维修' in mine
    assert "工单处理" not in mine and 'data-module="inventory"' not in mine


def test_written_values_are_escaped_exactly_as_markupsafe_escapes_them(app):
    """The app's templates write `{{ value }}` through `templating._output` (a plain str, not a
    Markup per cell): the same text as Jinja's own autoescaping for every kind of value, and
    macros and `set` blocks still give Markup that is not escaped twice."""
    from markupsafe import Markup

    class Html:
        def __html__(self) -> str:
            return "<b>safe</b>"

    source = (
        "{% macro m(x) %}<i>{{ x }}</i>{% endmacro %}{% set held %}<u>{{ a }}</u>{% endset %}"
        "{{ a }}|{{ b }}|{{ c }}|{{ d }}|{{ e }}|{{ f }}|{{ missing }}|{{ m(a) }}|{{ held }}|{{ a ~ c }}|{{ a|e }}"
        "{% autoescape false %}|{{ a }}{% endautoescape %}"
    )
    values = {"a": "<王&\"'>", "b": 12, "c": Markup("<em>ok</em>"), "d": Html(), "e": None, "f": 1.5}
    ours = app.template_engine.engine.from_string(source)
    assert "weifu_output" in app.template_engine.engine.compile(source, raw=True)
    jinja = Environment(autoescape=True).from_string(source)
    assert ours.render(values) == jinja.render(values)
    assert ours.render(values).startswith("&lt;王&amp;&#34;&#39;&gt;|12|<em>ok</em>|<b>safe</b>|None|1.5||<i>&lt;王")


def test_local_times_read_as_strftime_writes_them():
    """clock.local keeps what it wrote: the same text as strftime in the tenant's zone, DST and
    naive (UTC) values included, and a kept value never answers for another zone or format."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.core.clock import MINUTES, local

    start = datetime(2026, 3, 7, 23, 59, 59, 999_999, tzinfo=UTC)
    for tz in ("Asia/Shanghai", "America/New_York", "Asia/Kolkata"):
        for k in range(0, 24 * 60 * 3, 37):
            at = start + timedelta(minutes=k, seconds=k % 60)
            assert local(at, tz) == at.astimezone(ZoneInfo(tz)).strftime(MINUTES)
            naive = at.replace(tzinfo=None)
            assert local(naive, tz) == at.astimezone(ZoneInfo(tz)).strftime(MINUTES)
    assert local(start, "Asia/Shanghai", "%H:%M:%S") == "07:59:59" and local(None, "UTC") == ""
