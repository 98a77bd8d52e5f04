"""Pages of 【额度充值】 and 【额度调整】: the filtered list, and the document page (the manual's line
form above the list of lines, 【暂存】, 【提交】, 【确认充值】/【确认调整】, 【删除】). The handlers are
`server.core.doc_controllers.DocPages`'; what credit documents show is here.

`/new` shows an empty document that is created on its first save (【暂存】 or the first 【添加】
of a line), so opening 【新增】 and leaving leaves no empty draft behind."""

from decimal import Decimal
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from server.core import money
from server.core.doc_controllers import DocPages
from server.core.documents import DocStatus
from server.core.errors import NotFound
from server.core.forms import saved
from server.core.pagination import Page
from server.core.tenancy import Ctx
from server.core.web import ctx_of, render
from server.credit.services import documents
from server.credit.states import Direction
from server.system.services import orgs


def _totals(doc: dict) -> dict:
    """Sums the page shows under the lines: per direction, and what the document holds frozen."""
    sums = {Direction.INCREASE: Decimal(0), Direction.DECREASE: Decimal(0), "frozen": Decimal(0)}
    for li in doc["lines"]:
        sums[li["direction"]] += Decimal(li["amount"])
        if li["frozen"] and doc["status"] == DocStatus.SUBMITTED:
            sums["frozen"] += Decimal(li["amount"])
    return {k: money.fmt(money.to_units(v)) for k, v in sums.items()}


async def _org_label(ctx: Ctx, org_id: str) -> str:
    """The name of the org a filter names (empty when it is not one the caller sees)."""
    if not org_id:
        return ""
    try:
        return (await orgs.get(ctx, org_id))["name"]
    except NotFound:
        return ""


class CreditDocPages(DocPages):
    service = documents
    filters = documents.CreditDocFilters
    list_template = "credit/docs.html"

    def common(self) -> dict:
        return super().common() | {"directions": documents.DIRECTIONS, "Direction": Direction}

    async def list_extras(self, request: Request, ctx: Ctx, page: Page, filters: dict, rows: bool) -> dict:
        return {
            "page": page.with_items([d | {"totals": _totals(d)} for d in page.items]),
            "org_label": "" if rows else await _org_label(ctx, filters["org_id"]),
        }

    def render_doc(
        self, request: Request, doc: dict | None, block: str | None = None, line: dict | None = None, **kw: Any
    ) -> Response:
        editable = (doc is None or doc["status"] == DocStatus.DRAFT) and ctx_of(request).can(self.perms["create"])
        return render(
            request,
            "credit/doc.html",
            block=block,
            doc=doc,
            url=f"{self.path}/{doc['id']}" if doc else self.path,
            line=line,
            editable=editable,
            totals=_totals(doc) if doc else None,
            **self.common(),
            **kw,
        )

    def render_line_form(self, request: Request, doc: dict, line: dict | None) -> Response:
        return self.render_doc(request, doc, "line_form", line)

    def created(self, data: dict) -> dict:
        """The first save of `/new`: 【暂存】 (the remark) or 【添加】 (the remark and a line)."""
        lines = [self.line(data)] if "org_id" in data else []
        return {"remark": data.get("remark", ""), "lines": lines}

    def created_message(self, doc: dict) -> str:
        message = super().created_message(doc)
        if doc["lines"]:
            message = f"已添加 {doc['lines'][0]['org_name']} {doc['lines'][0]['amount']}，{message}"
        return message

    def header(self, data: dict) -> dict:
        """【暂存】 and 【提交】 carry the remark (when the form has it)."""
        return {"remark": data["remark"]} if "remark" in data else {}

    def line(self, data: dict) -> dict:
        """The line form's fields as the service names them (the form calls the line's remark
        `line_remark`, as the document's own `remark` can be posted with it)."""
        line = {"org_id": data.get("org_id"), "amount": data.get("amount"), "remark": data.get("line_remark", "")}
        if self.kind == "adjustment":
            line["direction"] = data.get("direction")
        return line

    def line_done(self, request: Request, doc: dict, line: dict, added: bool) -> Response:
        """The line joins the list below; the form comes back empty for the next one."""
        done = saved(f"已{'添加' if added else '修改'} {line['org_name']} {line['amount']}", self.topic)
        return self.render_doc(request, doc, "line_form", headers=dict(done.headers), status_code=201 if added else 200)

    @post("/{doc_id:int}/lines/{line_id:int}/delete", opt={"action": "create"}, include_in_schema=False)
    async def delete_line(self, request: Request, doc_id: FromPath[int], line_id: FromPath[int]) -> Response:
        doc = await documents.delete_line(ctx_of(request), self.kind, doc_id, line_id)
        return saved(f"已删除明细（剩余 {len(doc['lines'])} 行）", self.topic)


class RechargePages(CreditDocPages):
    kind = "recharge"
    path = "/credit/recharges"
    title = "额度充值"
    confirm_label = "确认充值"


class AdjustmentPages(CreditDocPages):
    kind = "adjustment"
    path = "/credit/adjustments"
    title = "额度调整"
    confirm_label = "确认调整"


ROUTES = [RechargePages, AdjustmentPages]
