"""Per-tenant work order settings: the repeat-repair window and the SLA limits (SPEC 11).
A tenant that never saved them has the defaults."""

from __future__ import annotations

import json
from typing import Any

from server.core import audit, authcache, validate
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError
from server.core.tenancy import Ctx, scoped
from server.core.validate import Fields
from server.workorders.states import WorkOrderStatus
from server.workorders.tables import WorkOrderSettings

TIMED = (WorkOrderStatus.ACCEPTED, WorkOrderStatus.REPAIRING, WorkOrderStatus.REPAIRED)
# minutes in the status: green up to the first, yellow up to the second, red beyond
DEFAULT_SLA = {
    WorkOrderStatus.ACCEPTED: {"green": 60, "yellow": 240},
    WorkOrderStatus.REPAIRING: {"green": 1440, "yellow": 2880},
    WorkOrderStatus.REPAIRED: {"green": 1440, "yellow": 4320},
}
DEFAULT_REPEAT_DAYS = 30
MAX_MINUTES = 525_600  # a year


def _stored(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


async def settings(ctx: Ctx) -> dict:
    """Read by every list and order page (the SLA colours): kept in `authcache` under the
    tenant's generation, which saving them moves on (audited as `settings`). A copy: callers may
    change what they get."""
    key = ("workorder_settings", ctx.tenant_id)
    if (kept := await authcache.get(key)) is not None:
        return _copy(kept)
    generation = await authcache.generation(ctx.tenant_id)  # read before the query: see authcache
    row = await WorkOrderSettings.select().where(scoped(ctx, WorkOrderSettings)).first()
    stored = _stored(row["sla"]) if row else {}
    values = {
        "repeat_days": row["repeat_days"] if row else DEFAULT_REPEAT_DAYS,
        "sla": {s.value: stored.get(s.value) or DEFAULT_SLA[s] for s in TIMED},
    }
    authcache.put(key, ctx.tenant_id, generation, _copy(values))
    return values


def _copy(values: dict) -> dict:
    return {"repeat_days": values["repeat_days"], "sla": {k: dict(v) for k, v in values["sla"].items()}}


def _after_green(label: str, field: str) -> None:
    raise BusinessError(f"{label}必须大于绿色时限", code="out_of_range", field=field)


def limits_of(values: dict) -> dict:
    return values["sla"]


async def update(ctx: Ctx, data: dict) -> dict:
    """Saved at the head office, for the whole company."""
    ctx.require_hq("工单设置只能由总部修改")
    current = await settings(ctx)
    v = Fields()
    days = current["repeat_days"]
    if "repeat_days" in data:
        days = v(validate.integer, data["repeat_days"], "返修判定天数", 1, 3650, field="repeat_days")
    sla = dict(current["sla"])
    given = data.get("sla") or {}
    for status in TIMED:
        if status.value not in given:
            continue
        limit = given[status.value] if isinstance(given[status.value], dict) else {}
        field = f"sla.{status.value}"
        green = v(
            validate.integer, limit.get("green"), f"{status.label}绿色时限", 1, MAX_MINUTES, field=field + ".green"
        )
        yellow = v(
            validate.integer, limit.get("yellow"), f"{status.label}黄色时限", 1, MAX_MINUTES, field=field + ".yellow"
        )
        if green and yellow and yellow <= green:
            v(_after_green, f"{status.label}黄色时限", field + ".yellow")
        sla[status.value] = {"green": green, "yellow": yellow}
    v.done()
    async with atomic():
        exists = await WorkOrderSettings.exists().where(scoped(ctx, WorkOrderSettings))
        values = {"repeat_days": days, "sla": json.dumps(sla), "updated_at": now()}
        if exists:
            await WorkOrderSettings.update(values).where(scoped(ctx, WorkOrderSettings))
        else:
            await WorkOrderSettings.insert(WorkOrderSettings(tenant_id=ctx.tenant_id, **values))
        before, after = audit.changes(current, {"repeat_days": days, "sla": sla})
        await audit.record(ctx, "update", "settings", None, "工单设置", before, after)
    return await settings(ctx)
