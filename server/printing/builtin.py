# ruff: noqa: E501  (HTML template text: a row of a table reads best on one line)
"""The templates every tenant starts with, one default per document type (and a 58 mm slip
beside the 80 mm one): printing works before anyone designs anything. They are ordinary HTML
templates, rendered in the same sandbox as a user's, and a user may copy and change them."""

from __future__ import annotations

from server.printing.states import DocType

A4 = {"width_mm": 210, "height_mm": 297}
MARGINS_A4 = {"top": 12, "right": 12, "bottom": 12, "left": 12}

STYLE = """<style>
.doc { background: #fff; font-size: 12px; line-height: 1.5; color: #000; }
.doc h1 { margin: 0; font-size: 14px; font-weight: normal; text-align: center; }
.doc h2 { margin: 2px 0 8px; font-size: 20px; letter-spacing: 6px; text-align: center; }
.doc .head { display: flex; justify-content: space-between; align-items: flex-end; margin-bottom: 6px; }
.doc table { width: 100%; border-collapse: collapse; }
.doc th, .doc td { padding: 3px 6px; border: 1px solid #000; text-align: left; vertical-align: top; }
.doc .info th { width: 13%; font-weight: normal; background: #f2f2f2; white-space: nowrap; }
.doc .lines { margin-top: 8px; }
.doc .lines thead th { background: #f2f2f2; }
.doc .num { text-align: right; white-space: nowrap; }
.doc .qr svg { display: block; }
.doc .qr-hint { font-size: 10px; text-align: center; }
.doc .signs { display: flex; justify-content: space-between; margin-top: 18px; }
.doc .foot { margin-top: 8px; color: #444; font-size: 11px; }
</style>
"""

WORK_ORDER_HEAD = """<div class="head">
  <div>单号 <strong id="receipt-no">{{ doc.no }}</strong><br>{{ stamp }}</div>
  <div class="qr">{{ doc.status_url | qr(2) }}<div class="qr-hint">扫码查进度</div></div>
</div>
<table class="info">
  <tr><th>客户</th><td>{{ doc.customer.name }}</td><th>手机号</th><td>{{ doc.customer.phone }}</td></tr>
  <tr><th>地址</th><td colspan="3">{{ doc.customer.address or "—" }}</td></tr>
  <tr><th>产品</th><td>{{ doc.goods_name or "—" }}</td><th>序列号</th><td>{{ doc.serial_no or "—" }}</td></tr>
  <tr><th>服务类型</th><td>{{ doc.service_type_name or "—" }}</td><th>检测结果</th><td>{{ doc.test_result_name or "—" }}</td></tr>
  <tr><th>故障描述</th><td colspan="3">{{ doc.fault_description or "—" }}</td></tr>
"""

INTAKE = (
    STYLE
    + """<div class="doc">
<h1>{{ org_name }}</h1>
<h2>维修受理单</h2>
"""
    + WORK_ORDER_HEAD.replace("{{ stamp }}", "受理时间 {{ doc.created_at }}")
    + """  <tr><th>外观</th><td colspan="3">{{ doc.appearance or "—" }}</td></tr>
  <tr><th>随机附件</th><td colspan="3">{{ doc.accessories or "—" }}</td></tr>
  <tr><th>承诺时间</th><td>{{ doc.promised_at or "—" }}</td><th>条形码</th><td>{{ doc.barcode or "—" }}</td></tr>
  <tr><th>受理人</th><td>{{ doc.created_by_name }}</td><th>维修技师</th><td>{{ doc.technician_name or "未派工" }}</td></tr>
</table>
<p>凭本单取机，请妥善保管。扫描二维码可查询维修进度。</p>
<div class="signs"><div>客户签字：＿＿＿＿＿＿＿＿</div><div>受理人：{{ doc.created_by_name }}</div></div>
<div class="foot">打印时间 {{ printed_at }} · 打印人 {{ printed_by }}</div>
</div>
"""
)

CLOSING = (
    STYLE
    + """<div class="doc">
<h1>{{ org_name }}</h1>
<h2>维修结单单</h2>
"""
    + WORK_ORDER_HEAD.replace("{{ stamp }}", "结单时间 {{ doc.closed_at }}")
    + """  <tr><th>维修技师</th><td>{{ doc.technician_name or "—" }}</td><th>维修结果</th><td>{{ doc.repair_result_name or "—" }}</td></tr>
</table>
<table class="lines" id="receipt-lines">
  <thead><tr><th>维修代码</th><th>货品</th><th class="num">数量</th><th class="num">工时费</th><th class="num">单价</th></tr></thead>
  <tbody>
  {% for ln in doc.repair_lines %}
    <tr><td>{{ ln.repair_code or "—" }}</td><td>{{ ln.goods_name or "—" }}</td><td class="num">{{ ln.qty }}</td><td class="num">{{ ln.labor_fee }}</td><td class="num">{{ ln.price }}</td></tr>
  {% else %}
    <tr><td colspan="5">无维修明细</td></tr>
  {% endfor %}
  </tbody>
</table>
<table class="info lines">
  <tr><th>工时费</th><td>{{ doc.charges.labor }}</td><th>材料费</th><td>{{ doc.charges.parts }}</td></tr>
  <tr><th>费用合计</th><td>{{ doc.charges.total }}</td><th>实收金额</th><td id="receipt-received">{{ doc.amount_received }}</td></tr>
  <tr><th>支付方式</th><td>{{ doc.payment_method_name or "—" }}</td><th>结单方式</th><td>{{ doc.closing_method_name or "—" }}</td></tr>
  {% if doc.tracking_no %}<tr><th>快递公司</th><td>{{ doc.carrier }}</td><th>快递单号</th><td>{{ doc.tracking_no }}</td></tr>{% endif %}
  {% if doc.closing_remark %}<tr><th>备注</th><td colspan="3">{{ doc.closing_remark }}</td></tr>{% endif %}
</table>
<div class="signs"><div>客户签字：＿＿＿＿＿＿＿＿</div><div>日期：＿＿＿＿＿＿</div></div>
<div class="foot">打印时间 {{ printed_at }} · 打印人 {{ printed_by }}</div>
</div>
"""
)


QUOTE = (
    STYLE
    + """<style>
.doc .quote-state { text-align: right; }
.doc .lines tfoot td { background: #f7f7f7; }
.doc .lines tfoot .total td { font-size: 14px; font-weight: bold; }
.doc .terms { margin: 10px 0 0; }
.doc .signs { align-items: flex-end; }
.doc .signature { display: inline-block; height: 64px; max-width: 240px; vertical-align: bottom; }
</style>
<div class="doc">
<h1>{{ org_name }}</h1>
<h2>维修报价单</h2>
<div class="head">
  <div>工单号 <strong id="quote-no">{{ doc.no }}</strong><br>报价时间 {{ doc.created_at }}</div>
  <div class="quote-state">报价状态 <strong id="quote-status">{{ doc.status_label }}</strong><br>有效期至 {{ doc.valid_until }}</div>
</div>
<table class="info">
  <tr><th>客户</th><td>{{ doc.customer.name }}</td><th>手机号</th><td>{{ doc.customer.phone }}</td></tr>
  <tr><th>产品</th><td>{{ doc.goods_name or "—" }}</td><th>序列号</th><td>{{ doc.serial_no or "—" }}</td></tr>
  <tr><th>故障描述</th><td colspan="3">{{ doc.fault_description or "—" }}</td></tr>
</table>
<table class="lines" id="quote-lines">
  <thead><tr><th class="num">序号</th><th>维修项目</th><th>配件</th><th class="num">数量</th><th class="num">工时费</th><th class="num">配件单价</th><th class="num">金额</th></tr></thead>
  <tbody>
  {% for ln in doc.lines %}
    <tr><td class="num">{{ ln.index }}</td><td>{{ ln.repair_code or "—" }}</td><td>{{ ln.goods_name or "—" }}</td><td class="num">{{ ln.qty }}</td><td class="num">{{ ln.labor_fee | money }}</td><td class="num">{{ ln.price | money }}</td><td class="num">{{ ln.amount | money }}</td></tr>
  {% endfor %}
  </tbody>
  <tfoot>
    <tr><td colspan="6">工时费</td><td class="num">{{ doc.labor | money }}</td></tr>
    <tr><td colspan="6">材料费（配件按零售价）</td><td class="num">{{ doc.parts | money }}</td></tr>
    <tr class="total"><td colspan="6">报价合计（元）</td><td class="num" id="quote-total">{{ doc.total | money }}</td></tr>
  </tfoot>
</table>
<p class="terms">本报价有效期至 {{ doc.valid_until }}。客户签字同意后，按以上项目维修并收费；维修中如需增加项目，将另行报价并经客户同意。</p>
{% if doc.decline_reason %}<p>客户拒绝原因：{{ doc.decline_reason }}</p>{% endif %}
<div class="signs">
  <div>客户签字：{% if doc.signature %}<img class="signature" id="quote-signature" src="{{ doc.signature }}" alt="客户签字">{% else %}＿＿＿＿＿＿＿＿{% endif %}</div>
  <div>{% if doc.decided_at %}{{ doc.status_label }} · {{ doc.decided_at }} · 经办 {{ doc.decided_by_name }}{% else %}日期：＿＿＿＿＿＿{% endif %}</div>
</div>
<div class="foot">报价人 {{ doc.created_by_name }} · 打印时间 {{ printed_at }} · 打印人 {{ printed_by }}</div>
</div>
"""
)


def _goods(title: str, info: str, signs: str) -> str:
    return STYLE + (
        """<div class="doc sheet">
<h1>{{ tenant_name }} · {{ doc.org_name }}</h1>
<h2>"""
        + title
        + """</h2>
<div class="head"><span>单号：<strong>{{ doc.no }}</strong></span><span>状态：{{ doc.status_name }}</span></div>
<table class="info">
"""
        + info
        + """
  <tr><th>备注</th><td colspan="5">{{ doc.remark }}</td></tr>
</table>
<table class="lines">
  <thead><tr><th class="num">序号</th><th>货品编码</th><th>货品名称</th><th>规格型号</th><th>单位</th><th class="num">单价</th><th class="num">数量</th><th class="num">金额</th></tr></thead>
  <tbody>
  {% for li in doc.lines %}
    <tr><td class="num">{{ loop.index }}</td><td>{{ li.goods_code }}</td><td>{{ li.goods_name }}</td><td>{{ li.spec }}</td><td>{{ li.unit }}</td><td class="num">{{ li.price }}</td><td class="num">{{ li.qty }}</td><td class="num">{{ li.amount }}</td></tr>
  {% endfor %}
  </tbody>
  <tfoot><tr><td colspan="6">合计（{{ doc.lines | length }} 行）</td><td class="num">{{ doc.total_qty }}</td><td class="num">{{ doc.total_amount }}</td></tr></tfoot>
</table>
<div class="signs">"""
        + signs
        + """</div>
<div class="foot">打印时间 {{ printed_at }} · 打印人 {{ printed_by }}</div>
</div>
"""
    )


SHIPMENT = _goods(
    "装箱单",
    """  <tr><th>发货类型</th><td>{{ doc.type_name }}</td><th>出库仓库</th><td>{{ doc.warehouse_name }}</td><th>收货机构</th><td>{{ doc.to_org_name }}</td></tr>
  <tr><th>物流公司</th><td>{{ doc.carrier }}</td><th>运单号</th><td>{{ doc.tracking_no }}</td><th>出库时间</th><td>{{ doc.completed_at }}</td></tr>""",
    "<div>发货人：</div><div>承运人：</div><div>收货人：</div><div>收货日期：</div>",
)
ORDER = _goods(
    "订货单",
    """  <tr><th>订货机构</th><td>{{ doc.org_name }}</td><th>供货机构</th><td>{{ doc.parent_org_name }}</td><th>提交时间</th><td>{{ doc.submitted_at }}</td></tr>
  <tr><th>制单人</th><td>{{ doc.created_by_name }}</td><th>审核人</th><td>{{ doc.reviewed_by_name }}</td><th>审核时间</th><td>{{ doc.reviewed_at }}</td></tr>""",
    "<div>订货人：</div><div>审核人：</div><div>日期：</div>",
)
STOCK = """  <tr><th>类型</th><td>{{ doc.type_name }}</td><th>仓库</th><td>{{ doc.warehouse_name }}</td><th>供应商</th><td>{{ doc.supplier_name }}</td></tr>
  <tr><th>制单人</th><td>{{ doc.created_by_name }}</td><th>制单时间</th><td>{{ doc.created_at }}</td><th>完成时间</th><td>{{ doc.completed_at }}</td></tr>"""
INBOUND = _goods("入库单", STOCK, "<div>制单人：</div><div>审核人：</div><div>仓管员：</div><div>经手人：</div>")
OUTBOUND = _goods("出库单", STOCK, "<div>制单人：</div><div>审核人：</div><div>仓管员：</div><div>领用人：</div>")


def _ticket(no_px: int) -> str:
    """The queue slip as the kiosk printed it before templates (the same markup and look)."""
    return (
        """<style>
.q-ticket { text-align: center; font-size: 12px; line-height: 1.45; color: #000; }
.q-ticket-org { font-size: 15px; font-weight: 700; }
.q-ticket-title { margin-top: 1mm; padding-bottom: 2mm; border-bottom: 1px dashed #000; letter-spacing: 0.3em; }
.q-ticket-no { margin: 2mm 0 0; font-size: """
        + str(no_px)
        + """px; font-weight: 800; letter-spacing: 0.02em; line-height: 1.1; }
.q-ticket-service { font-size: 16px; font-weight: 600; }
.q-ticket-ahead { margin: 2mm 0; font-size: 14px; }
.q-ticket-info { margin: 0; padding: 2mm 0; border-top: 1px dashed #000; border-bottom: 1px dashed #000; text-align: left; }
.q-ticket-info > div { display: flex; justify-content: space-between; gap: 2mm; }
.q-ticket-info dt { color: #333; }
.q-ticket-info dd { margin: 0; font-variant-numeric: tabular-nums; }
.q-ticket-note { margin: 2.5mm 0 0; font-size: 13px; font-weight: 600; }
.q-ticket-foot { margin: 1mm 0 0; color: #444; font-size: 11px; }
</style>
<div class="q-ticket">
  <div class="q-ticket-org">{{ org_name }}</div>
  <div class="q-ticket-title">排队小票</div>
  <div class="q-ticket-no">{{ doc.no }}</div>
  <div class="q-ticket-service">{{ doc.service_name }}</div>
  <div class="q-ticket-ahead">前面还有 {{ doc.ahead }} 人</div>
  <dl class="q-ticket-info">
    <div><dt>取号时间</dt><dd>{{ doc.taken_at }}</dd></div>
    {% if doc.phone %}<div><dt>手机号</dt><dd>{{ doc.phone }}</dd></div>{% endif %}
  </dl>
  <p class="q-ticket-note">请留意叫号屏与语音提示</p>
  <p class="q-ticket-foot">过号请重新取号 · 谢谢惠顾</p>
</div>
"""
    )


MARGINS_ROLL = {"top": 5, "right": 4, "bottom": 6, "left": 4}

# (doc_type, name, paper, margins, source, is_default)
BUILTINS = [
    (DocType.INTAKE_RECEIPT, "标准受理单（A4）", A4, MARGINS_A4, INTAKE, True),
    (DocType.CLOSING_RECEIPT, "标准结单单（A4）", A4, MARGINS_A4, CLOSING, True),
    (DocType.SHIPMENT, "标准装箱单（A4）", A4, MARGINS_A4, SHIPMENT, True),
    (DocType.ORDER, "标准订货单（A4）", A4, MARGINS_A4, ORDER, True),
    (DocType.INBOUND, "标准入库单（A4）", A4, MARGINS_A4, INBOUND, True),
    (DocType.OUTBOUND, "标准出库单（A4）", A4, MARGINS_A4, OUTBOUND, True),
    (DocType.QUEUE_TICKET, "排队小票（80 毫米）", {"width_mm": 80, "height_mm": 110}, MARGINS_ROLL, _ticket(56), True),
    (DocType.QUEUE_TICKET, "排队小票（58 毫米）", {"width_mm": 58, "height_mm": 100}, MARGINS_ROLL, _ticket(44), False),
    (DocType.QUOTE, "标准报价单（A4）", A4, MARGINS_A4, QUOTE, True),
]


def builtin_rows() -> list[dict]:
    """The built-in templates as service dicts (id 0: not stored), for tenants made before them."""
    return [
        {
            "name": name,
            "doc_type": str(doc_type),
            "mode": "html",
            "source": source,
            "layout": {
                "paper": paper,
                "margins_mm": margins,
                "fields": [],
                "line_block": {"y_mm": 0, "row_pitch_mm": 6, "max_rows": 10, "fields": []},
                "offset_mm": {"x": 0, "y": 0},
            },
            "is_default": default,
        }
        for doc_type, name, paper, margins, source, default in BUILTINS
    ]
