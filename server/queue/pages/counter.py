"""【叫号】 (SPEC 6): a counter's desk — its tickets being called or served with their actions, a big
【叫号】, the waiting list of its services and today's tally. The chosen counter is `?counter_id=`
(the page's script remembers it); `#desk` refreshes on `live:queue`, and every action answers the
desk re-rendered. A ticket's 【开单】 opens the work-order intake (server.workorders.pages)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath

from server.core import clock
from server.core.errors import BusinessError, NotFound
from server.core.forms import form_data
from server.core.tenancy import Ctx
from server.core.web import ctx_of, htmx_target, render
from server.queue import permissions as P
from server.queue.services import setup, tickets
from server.queue.states import Priority, TicketStatus

TITLE = "叫号"
ACTIONS: dict[str, tuple[Callable[[Ctx, int], Awaitable[dict]], str]] = {
    "recall": (tickets.recall, "已重呼 {no}"),
    "skip": (tickets.skip, "{no} 已过号"),
    "start": (tickets.start, "{no} 开始办理"),
    "finish": (tickets.finish, "{no} 已完成"),
}
# a refused action also refreshes the desk: someone else may have changed the ticket meanwhile
REFRESH = "desk:refresh"


def _groups(counters: list[dict]) -> list[tuple[str, list[dict]]]:
    """The counters by org, in the service's order (org, then number)."""
    groups: list[tuple[str, list[dict]]] = []
    for c in counters:
        if not groups or groups[-1][0] != c["org_name"]:
            groups.append((c["org_name"], []))
        groups[-1][1].append(c)
    return groups


async def _desk(ctx: Ctx, counter_id: object) -> dict:
    return {
        "desk": await tickets.desk(ctx, counter_id),
        "now": clock.now(),
        "mask": tickets.masked_phone,
        "can_call": ctx.can(P.CALL),
        "Status": TicketStatus,
        "Priority": Priority,
    }


def _desk_response(request: Request, data: dict, message: str) -> Response:
    response = render(request, "queue/counter.html", block="desk", **data)
    response.headers["HX-Trigger"] = json.dumps({"weifu:saved": {"message": message}})
    return response


def _refused(exc: BusinessError) -> Response:
    return Response(
        exc.detail,
        status_code=exc.status_code,
        media_type=MediaType.TEXT,
        headers={"X-Error-Code": exc.code, "HX-Trigger": REFRESH},
    )


class CounterPages(Controller):
    path = "/queue/counter"

    @get("/", opt={"perm": P.COUNTER_VIEW}, include_in_schema=False)
    async def index(self, request: Request) -> Response:
        """The page (with the chooser), or the desk alone when `#desk` refreshes itself."""
        ctx = ctx_of(request)
        counter_id = request.query_params.get("counter_id", "")
        if htmx_target(request) == "desk":
            return render(request, "queue/counter.html", block="desk", **await _desk(ctx, counter_id))
        counters = await tickets.counters_for(ctx)
        if not counter_id and len(counters) == 1:
            counter_id = str(counters[0]["id"])
        data, error, status = {}, "", 200
        if counter_id:
            try:
                data = await _desk(ctx, counter_id)
            except BusinessError as exc:  # e.g. a counter since deleted: choose another
                error, status = exc.detail, exc.status_code
        return render(
            request,
            "queue/counter.html",
            status_code=status,
            title=TITLE,
            groups=_groups(counters),
            counter_id=counter_id,
            error=error,
            **data,
        )

    @post("/{counter_id:int}/call-next", opt={"perm": P.CALL}, include_in_schema=False, status_code=200)
    async def call_next(self, request: Request, counter_id: FromPath[int]) -> Response:
        """【叫号】: the oldest waiting ticket of the counter's services."""
        ctx = ctx_of(request)
        await setup.get_counter(ctx, counter_id)
        try:
            ticket = await tickets.call_next(ctx, counter_id)
        except BusinessError as exc:
            return _refused(exc)
        message = f"请 {ticket['no']} 号到 {ticket['counter_number']} 号窗口"
        return _desk_response(request, await _desk(ctx, counter_id), message)

    @post(
        "/{counter_id:int}/tickets/{ticket_id:int}/{action:str}",
        opt={"perm": P.CALL},
        include_in_schema=False,
        status_code=200,
    )
    async def act(
        self, request: Request, counter_id: FromPath[int], ticket_id: FromPath[int], action: FromPath[str]
    ) -> Response:
        """【重呼】【过号】【开始办理】【完成】 on a ticket; the answer is this counter's desk."""
        if action not in ACTIONS:
            raise NotFound("操作")
        ctx = ctx_of(request)
        await setup.get_counter(ctx, counter_id)
        move, done = ACTIONS[action]
        try:
            ticket = await move(ctx, ticket_id)
        except BusinessError as exc:
            return _refused(exc)
        return _desk_response(request, await _desk(ctx, counter_id), done.format(no=ticket["no"]))

    @post("/{counter_id:int}/priority/{ticket_id:int}", opt={"perm": P.CALL}, include_in_schema=False, status_code=200)
    async def priority(self, request: Request, counter_id: FromPath[int], ticket_id: FromPath[int]) -> Response:
        """【长者优先】【VIP】【取消优先】 on a waiting ticket; the answer is this counter's desk."""
        ctx = ctx_of(request)
        await setup.get_counter(ctx, counter_id)
        data = await form_data(request)
        try:
            ticket = await tickets.set_priority(ctx, ticket_id, data.get("priority", ""))
        except BusinessError as exc:
            return _refused(exc)
        done = f"{ticket['no']} 已设为{ticket['priority_name']}" if ticket["priority"] else f"{ticket['no']} 已取消优先"
        return _desk_response(request, await _desk(ctx, counter_id), done)


ROUTES = [CounterPages]
