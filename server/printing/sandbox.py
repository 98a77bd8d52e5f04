"""User-written HTML print templates, rendered where they can do nothing but print.

The Jinja source runs in `ImmutableSandboxedEnvironment` with no loader (`include`, `import`,
`extends` have nothing to read), undefined names refused (`{{ config }}` is an error, not an empty
string), no globals but `range` and `loop` helpers, and only the filters listed here. Every `for`
loop's iterable is wrapped (by rewriting the parsed template) in a counter that checks the
deadline, so an endless nest of loops stops; the output is counted as it is produced and capped;
text that would outgrow the cap (`*`, `+`, `~`, `%` and `.format` widths, `replace`, `join`,
large arguments to string methods) is refused before it is built, and every filter's result is
sized. Names starting with `_` belong to the sandbox. The
render runs in a worker thread, so the event loop never waits on it.

An error becomes `TemplateProblem(message, line)` in Chinese; the author sees it with the line
(preview, save), the person printing a plain page saying the template is broken."""

from __future__ import annotations

import asyncio
import functools
import re
import time
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import segno
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import markup_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

TEMPLATE_NAME = "print-template"
MAX_OUTPUT = 2 * 1024 * 1024  # characters of rendered HTML
MAX_SOURCE = 200_000
RENDER_SECONDS = 2.0
MAX_ITERATIONS = 1_000_000  # loop steps in one render, whatever the clock says
MAX_STRING_ARG = 10_000
_WIDE = re.compile(
    r"\d{5,}"
)  # a format width or precision of 10,000 or more  # `'x' * n`, `s.ljust(n)`, `center(n)`: n above this is refused
# the filters an author may use: formatting of values, no reflection, nothing that grows text at will
SAFE_FILTERS = (
    "abs capitalize count d default e escape first float int join last length list lower "
    "replace reverse round safe sort string striptags sum title trim truncate unique upper "
    "batch slice map select reject selectattr rejectattr groupby min max dictsort"
).split()


class TemplateProblem(Exception):
    """A print template that cannot render: `message` (Chinese) and `line` (1-based, or None)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


class _Limit(Exception):
    """Raised inside the render when it runs out of time, steps or room."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_ITERATIONS:
            raise _Limit(f"循环次数超过上限（{MAX_ITERATIONS:,} 次）")
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise _Limit(f"渲染超时（超过 {RENDER_SECONDS:g} 秒）")


# --- filters ------------------------------------------------------------------------------------


def _money(value: Any, places: int = 2) -> str:
    """`"12.5000"` → `"12.50"`; the document's money strings keep 4 places, a receipt shows 2."""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    places = max(0, min(int(places), 4))
    return f"{d:,.{places}f}"


def _date(value: Any, fmt: str = "%Y-%m-%d") -> str:
    """A document's time (`"2026-12-07 10:30"`, as the data gives it) or a date, re-formatted."""
    if isinstance(value, datetime | date):
        return value.strftime(fmt)
    text = str(value or "")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).strftime(fmt)
        except ValueError:
            continue
    return text


def _qr(value: Any, scale: int = 3) -> Markup:
    """An inline SVG QR code of `value` (segno, as the rest of the app)."""
    text = str(value or "")
    if not text:
        return Markup("")
    if len(text) > 500:
        raise _Limit("二维码内容过长（最多 500 个字符）")
    scale = max(1, min(int(scale), 10))
    return Markup(segno.make(text, error="m").svg_inline(scale=scale, border=1, omitsize=False))


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT:
        raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
    return value


def _checked(name: str, fn: Any) -> Any:
    """A filter whose result may not outgrow the output limit; `replace` is checked before it runs."""

    def run(*args: Any, **kwargs: Any) -> Any:
        if name == "replace" and len(args) >= 3:
            text, old, new = (
                (str(a) for a in args[1:4]) if hasattr(args[0], "environment") else (str(a) for a in args[:3])
            )
            if old and text.count(old) * len(new) > MAX_OUTPUT:
                raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
        if name == "join":
            items = [a for a in args if isinstance(a, list | tuple)]
            seps = [a for a in args[1:] if isinstance(a, str)] + [kwargs.get("d", "")]
            if items and len(items[0]) * max(len(str(x)) for x in seps) > MAX_OUTPUT:
                raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
        return _sized(fn(*args, **kwargs))

    for attr in ("jinja_pass_arg",):  # keep pass_context / pass_eval_context / pass_environment
        if hasattr(fn, attr):
            setattr(run, attr, getattr(fn, attr))
    return run


def _cat(*parts: Any) -> Any:
    """`a ~ b`: Jinja's own join, refused before it builds text beyond the output limit."""
    if sum(len(str(p)) for p in parts) > MAX_OUTPUT:
        raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
    return markup_join(parts)


class PrintSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with the checks described above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, autoescape: bool = True) -> None:
        super().__init__(loader=None, autoescape=autoescape, undefined=StrictUndefined, auto_reload=False, cache_size=0)
        self.filters = {name: _checked(name, JINJA_FILTERS[name]) for name in SAFE_FILTERS}
        self.filters |= {"money": _money, "date": _date, "qr": _qr}
        self.tests = dict(self.tests)
        self.globals = {"range": safe_range, "namespace": Namespace}

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int) and abs(right) > 100:
                raise _Limit("幂运算的指数过大")
            return left**right
        if operator == "*":
            count = right if isinstance(right, int) else left if isinstance(left, int) else None
            other = left if count is right else right
            if (
                isinstance(other, str | list | tuple)
                and count is not None
                and count * max(len(other), 1) > MAX_STRING_ARG
            ):
                raise _Limit("重复的文字过长")
            return left * right
        if operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                if len(left) + len(right) > MAX_OUTPUT:
                    raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
            return left + right
        if operator == "%":
            if isinstance(left, str) and _WIDE.search(left):
                raise _Limit("格式宽度过大")
            return left % right
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805  (Jinja's own signature)
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(method, "__self__", None)
        if (
            isinstance(owner, str)
            and _WIDE.search(owner)
            and getattr(method, "__name__", "") in ("format", "format_map")
        ):
            raise _Limit("格式宽度过大")
        if any(
            isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_STRING_ARG
            for a in (*args, *kwargs.values())
        ):
            if getattr(__obj, "__self__", None).__class__ in (str, Markup):
                raise _Limit("字符串方法的参数过大")
        return super().call(__context, __obj, *args, **kwargs)


_ENV = PrintSandbox()
_TEXT_ENV = PrintSandbox(autoescape=False)  # plain text (an SMS, an email): nothing to escape


class _Guard(NodeTransformer):
    """Every `for`'s iterable wrapped in `_tick(…)` (a counter that stops a runaway render), every
    `~` made a call of `_cat` (sized before it joins); names starting with `_` are the sandbox's."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name("_tick", "load"), [node.iter], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.Name("_cat", "load"), list(node.nodes), [], None, None, lineno=node.lineno)

    def visit_Name(self, node: nodes.Name) -> nodes.Node:
        if node.name.startswith("_"):
            raise TemplateSyntaxError("以下划线开头的名称不可用", node.lineno, TEMPLATE_NAME)
        return node


def _count_loops(tree: nodes.Template) -> nodes.Template:
    return _Guard().visit(tree)


def _line_of(exc: BaseException) -> int | None:
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == f"<{TEMPLATE_NAME}>" or frame.filename == TEMPLATE_NAME:
            return frame.lineno
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, _Limit):
        return str(exc)
    if isinstance(exc, TemplateSyntaxError):
        if "no loader" in str(exc).lower():
            return "打印模板不能引用其他文件（include / import / extends）"
        if exc.message and exc.message.startswith("以下划线"):
            return exc.message
        return f"模板语法错误：{exc.message}"
    if isinstance(exc, SecurityError):
        return f"不允许访问：{exc}"
    if isinstance(exc, UndefinedError):
        return f"模板用到了不存在的字段或变量：{exc.message}"
    if isinstance(exc, TypeError) and "no loader" in str(exc).lower():
        return "打印模板不能引用其他文件（include / import / extends）"
    if isinstance(exc, RecursionError):
        return "模板递归层数过多"
    if isinstance(exc, MemoryError):
        return "模板占用内存过多"
    if isinstance(exc, TemplateError):
        return f"模板错误：{exc.message or type(exc).__name__}"
    return f"模板渲染出错：{type(exc).__name__}: {exc}"[:300]


def compile_source(source: str, text: bool = False):
    """The compiled template (`text`: plain text, not HTML), or `TemplateProblem` with the line
    of a syntax error."""
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"模板源码过长（最多 {MAX_SOURCE:,} 个字符）")
    return _compiled(source, text)


# Parsing and compiling is most of a print's cost (bench/printing.py: 4–9 ms of CPU for a
# built-in A4 template, against ~1–2 ms to render it): the compiled templates of the sources
# printed lately are kept, by their text (an edited template is another text). A compiled
# template holds no state of a render; a refused source raises and is not kept.
@functools.lru_cache(maxsize=64)
def _compiled(source: str, text: bool = False):
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"模板源码过长（最多 {MAX_SOURCE:,} 个字符）")
    env = _TEXT_ENV if text else _ENV
    try:
        tree = _count_loops(env.parse(source, TEMPLATE_NAME, f"<{TEMPLATE_NAME}>"))
        code = env.compile(tree, TEMPLATE_NAME, f"<{TEMPLATE_NAME}>")
        return env.template_class.from_code(env, code, dict(env.globals), None)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(_message(exc), exc.lineno) from None


def render_sync(source: str, data: dict, seconds: float = RENDER_SECONDS, text: bool = False) -> str:
    """Render `source` with `data` (plain dicts, lists, strings, numbers) inside the limits;
    `text`: a plain-text template (a notice), not HTML."""
    template = compile_source(source, text)
    budget = _Budget(time.monotonic() + seconds)

    def tick(iterable):
        if isinstance(iterable, int | float):  # `for x in 5`: Jinja's own error, not ours
            raise TypeError(f"'{type(iterable).__name__}' object is not iterable")
        for item in iterable:
            budget.tick()
            yield item

    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate({**data, "_tick": tick, "_cat": _cat}):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _Limit(f"输出超过上限（{MAX_OUTPUT // (1024 * 1024)} MB）")
            out.append(chunk)
            budget.tick()
    except TemplateProblem:
        raise
    except Exception as exc:  # any failure of user code (a RecursionError too) is the author's to see, never a 500
        raise TemplateProblem(_message(exc), _line_of(exc)) from None
    return "".join(out)


async def render(source: str, data: dict, seconds: float = RENDER_SECONDS, text: bool = False) -> str:
    """`render_sync` in a worker thread; the caller waits at most a little beyond the deadline
    (the cooperative checks stop the thread itself)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(render_sync, source, data, seconds, text), seconds + 1.0)
    except TimeoutError:
        raise TemplateProblem(f"渲染超时（超过 {seconds:g} 秒）") from None
