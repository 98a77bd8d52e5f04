"""The sandbox a user's HTML print template renders in: what it must refuse, with a clear Chinese
message and the line, leaking nothing of the server."""

import pytest

from server.printing import sandbox
from server.printing.sandbox import TemplateProblem, render, render_sync

DATA = {"doc": {"no": "WO1", "lines": [{"qty": 1}, {"qty": 2}]}, "org_name": "上海"}
SECRETS = ("passwd", "root:", "SECRET", "Settings", "<class", "subclasses", "environ", "/work")


def problem(source: str, seconds: float = sandbox.RENDER_SECONDS) -> TemplateProblem:
    with pytest.raises(TemplateProblem) as caught:
        render_sync(source, DATA, seconds)
    text = str(caught.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text  # said in Chinese
    assert not any(s in text for s in SECRETS), text
    return caught.value


@pytest.mark.parametrize(
    "source, says",
    [
        ("{{ ''.__class__.__mro__ }}", "不允许访问"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "不允许访问"),
        ("{{ doc.lines.__class__ }}", "不允许访问"),
        ("{{ config }}", "不存在的字段或变量"),
        ("{{ request }}", "不存在的字段或变量"),
        ("{{ settings.SECRET_KEY }}", "不存在的字段或变量"),
        ("{{ lipsum.__globals__ }}", "不存在的字段或变量"),
        ("{% include '/etc/passwd' %}", "不能引用其他文件"),
        ("{% import '/etc/passwd' as x %}", "不能引用其他文件"),
        ("{% extends '/etc/passwd' %}", "不能引用其他文件"),
        ("{% set x = doc.lines.append(3) %}", "不允许访问"),
        ("{{ '{0.__class__}'.format(doc) }}", "不允许访问"),
        ("{{ doc | attr('__class__') }}", "attr"),
    ],
)
def test_refuses_reaching_outside_the_data(source, says):
    assert says in problem(source).message


def test_an_endless_loop_stops_with_a_clear_error():
    p = problem("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    assert "循环次数超过上限" in p.message or "超时" in p.message
    assert p.line == 1


def test_a_slow_render_meets_the_deadline():
    # within the step budget, but past a deadline far shorter than the time it needs
    p = problem("{% for i in range(1000) %}{% for j in range(900) %}{% endfor %}{% endfor %}", seconds=0.001)
    assert "超时" in p.message


def test_a_100_mb_output_is_refused_before_it_is_made():
    assert "输出超过上限" in problem("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}").message
    assert "重复的文字过长" in problem("{{ 'x' * 100000000 }}").message
    assert "参数过大" in problem("{{ 'x'.ljust(100000000) }}").message
    assert "指数" in problem("{{ 9 ** 99999999 }}").message


@pytest.mark.parametrize(
    "source",
    [
        "{{ '%0100000000d' % 1 }}",
        "{{ '{:>100000000}'.format(1) }}",
        "{{ ('x' * 10000) | replace('x', 'x' * 10000) }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{{ (doc.lines * 5000) | join('x' * 10000) }}",
    ],
)
def test_text_that_would_grow_past_the_limit_is_refused_before_it_is_built(source):
    assert any(w in problem(source).message for w in ("上限", "过大", "过长"))


def test_names_of_the_sandbox_itself_are_refused():
    assert "下划线" in problem("{{ _tick }}").message


def test_recursion_is_refused():
    assert "递归" in problem("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").message


def test_errors_name_their_line():
    p = problem("<p>{{ doc.no }}</p>\n<p>\n{{ doc.nope }}</p>")
    assert p.line == 3 and "nope" in p.message
    syntax = problem("<p>\n{% if %}\n</p>")
    assert syntax.line == 2 and "语法错误" in syntax.message
    assert str(syntax).startswith("第 2 行")


def test_the_safe_filters_and_autoescape():
    out = render_sync(
        "{{ doc.no }}|{{ '1234.5000' | money }}|{{ '2026-12-07 10:30' | date('%m/%d') }}|{{ doc.no | qr }}|{{ x }}",
        {"doc": {"no": "WO1"}, "x": "<script>"},
    )
    no, money, day, qr, x = out.split("|")
    assert (no, money, day) == ("WO1", "1,234.50", "12/07")
    assert qr.startswith("<svg") and "</svg>" in qr
    assert x == "&lt;script&gt;"


async def test_render_runs_off_the_event_loop():
    assert await render("{{ doc.no }}", DATA) == "WO1"
    with pytest.raises(TemplateProblem):
        await render("{{ config }}", DATA)
