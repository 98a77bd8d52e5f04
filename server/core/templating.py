"""Jinja filters and globals used by every template, and the environment's settings for speed."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Macro
from markupsafe import escape

try:
    from markupsafe import _escape_inner  # the C escaping that markupsafe.escape wraps
except ImportError:  # pragma: no cover - another markupsafe

    def _escape_inner(text: str) -> str:
        return str(escape(text))


from server.core import money, permissions
from server.core.clock import MINUTES, local


@pass_context
def _localtime(context, value, fmt: str = MINUTES) -> str:
    ctx = context.get("ctx")
    return local(value, ctx.tz if ctx else "Asia/Shanghai", fmt)


def _can(ctx, code: str) -> bool:
    return bool(ctx) and ctx.can(code)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _fast_getattr(env: Environment):
    """`row.name` on a plain dict (every service row) looks the key up at once. Jinja's own
    getattr tries the attribute first, which on a dict raises and catches an AttributeError per
    cell: about a third of a list page's render time. Names of dict methods (`items`, `keys`…)
    keep Jinja's order, so no template reads differently."""
    generic = env.getattr

    def getattr_(obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return env.undefined(obj=obj, name=attribute)
        return generic(obj, attribute)

    return getattr_


def _output(value: Any) -> str:
    """What `{{ value }}` writes, escaped as `markupsafe.escape` escapes it, as a plain str: the
    chunks of a page are only joined (a macro's or a block's joined text is made Markup by Jinja
    itself), and building a Markup object per cell cost ten times the escaping (1.3 µs of 1.5;
    a 50-row list writes ~900 cells)."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    return html() if html is not None else _escape_inner(str(value))


class _CodeGenerator(CodeGenerator):
    """Jinja's code, with `_output` for the values an autoescaped template writes."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            return super()._output_child_pre(node, frame, finalize)
        self.write("environment.weifu_output(")
        if finalize.src is not None:
            self.write(finalize.src)


def setup(engine) -> None:
    env: Environment = engine.engine
    env.code_generator_class = _CodeGenerator
    env.weifu_output = _output
    env.weifu_menus = {}  # web.menu_html's rendered menus, per (permissions, active pages)
    env.getattr = _fast_getattr(env)
    # templates change only with a restart (a deploy; `serve --reload` restarts on a template
    # edit): no stat() of every template a page extends or includes on each render
    env.auto_reload = False
    env.autoescape = True
    env.filters["localtime"] = _localtime
    env.filters["money"] = money.fmt
    env.globals["can"] = _can
    env.globals["P"] = permissions.published()
    env.trim_blocks = True
    env.lstrip_blocks = True
    # The shared macros are globals rather than `{% from %}` imports: an import at the top of a
    # page is not run when only one of its blocks is rendered (an htmx region refresh).
    macros = env.get_template("components/_macros.html").module
    env.globals.update({name: m for name, m in vars(macros).items() if isinstance(m, Macro)})
