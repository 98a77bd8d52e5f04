"""Jinja filters and globals used by every template."""

from __future__ import annotations

from jinja2 import Environment, pass_context
from jinja2.runtime import Macro

from server.core import money, permissions
from server.core.clock import local


@pass_context
def _localtime(context, value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    ctx = context.get("ctx")
    return local(value, ctx.tz if ctx else "Asia/Shanghai", fmt)


def _can(ctx, code: str) -> bool:
    return bool(ctx) and ctx.can(code)


def setup(engine) -> None:
    env: Environment = engine.engine
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
