// 【看板】 (page and TV mode): draws the charts from the #board region's JSON, and keeps the board
// live. Every event of a topic that moves a figure asks for one refetch of the region; a burst of
// events is coalesced into at most one request in flight and one waiting (the waiting one is sent
// when the first answers), so the board shows the state at most about a second after a change.
// After a dropped socket it says 重新连接中… and refetches on the next open.
(function () {
  "use strict";
  var TOPICS = ["workorders", "queue", "stock", "credit", "shipments"];
  var COALESCE_MS = 250;
  var REVOKED_CODES = [4401, 4403];
  var body = document.body;
  var region = document.getElementById("board");
  if (!region) return;
  var isTv = body.classList.contains("db-tv");
  var charts = {};
  var timer = null, inFlight = false, again = false, off = false;

  function show(id, on) { var el = document.getElementById(id); if (el) el.hidden = !on; }

  function refresh() {
    if (off) return;
    if (inFlight) { again = true; return; }
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      inFlight = true;
      htmx.trigger(region, "board:refresh");
    }, COALESCE_MS);
  }
  region.addEventListener("htmx:afterRequest", function () {
    inFlight = false;
    if (again) { again = false; refresh(); }
  });
  region.addEventListener("htmx:afterSwap", draw);
  window.weifuBoard = {refresh: refresh, charts: charts};

  // --- charts -----------------------------------------------------------------------------------
  var big = isTv ? 22 : 12;
  var fg = isTv ? "#e5e7eb" : "#374151";
  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    if (!charts[id]) charts[id] = echarts.init(el, null, {renderer: "canvas"});
    return charts[id];
  }
  function data() {
    var el = document.getElementById("board-data");
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }
  function orgQuery(d) { return "&org_id=" + d.org_id; }
  function draw() {
    var d = data();
    if (!d) return;
    var status = chart("chart-status");
    if (status && d.by_status) {
      status.setOption({
        animation: !isTv,
        textStyle: {fontSize: big, color: fg},
        grid: {left: 8, right: 16, top: 16, bottom: 8, containLabel: true},
        xAxis: {type: "category", data: d.by_status.map(function (s) { return s.label; }),
                axisLabel: {fontSize: isTv ? 17 : big, color: fg, interval: 0}},
        yAxis: {type: "value", minInterval: 1, axisLabel: {fontSize: big, color: fg}},
        tooltip: {trigger: "axis"},
        series: [{type: "bar", name: "工单", data: d.by_status.map(function (s) { return s.count; }),
                  label: {show: true, position: "top", fontSize: big, color: fg}, itemStyle: {color: "#2f6fec"}}]
      });
      status.off("click");
      status.on("click", function (p) {
        var s = d.by_status[p.dataIndex];
        if (s && !isTv) window.location.href = "/workorders?status=" + s.status + orgQuery(d);
      });
    }
    var trend = chart("chart-trend");
    if (trend && d.trend) {
      trend.setOption({
        animation: !isTv,
        textStyle: {fontSize: big, color: fg},
        legend: {top: 0, left: "center", data: ["受理", "完工"], textStyle: {fontSize: big, color: fg}},
        grid: {left: 8, right: 16, top: 36, bottom: 8, containLabel: true},
        tooltip: {trigger: "axis"},
        xAxis: {type: "category", data: d.trend.map(function (t) { return t.day.slice(5); }), axisLabel: {fontSize: big, color: fg}},
        yAxis: {type: "value", minInterval: 1, axisLabel: {fontSize: big, color: fg}},
        series: [
          {type: "line", name: "受理", smooth: true, data: d.trend.map(function (t) { return t.intake; }), itemStyle: {color: "#2f6fec"}},
          {type: "line", name: "完工", smooth: true, data: d.trend.map(function (t) { return t.completed; }), itemStyle: {color: "#1f9d55"}}
        ]
      });
      trend.off("click");
      trend.on("click", function (p) {
        var t = d.trend[p.dataIndex];
        if (t && !isTv) window.location.href = "/workorders?date_from=" + t.day + "&date_to=" + t.day + orgQuery(d);
      });
    }
    var credit = chart("chart-credit");
    if (credit && d.credit) {
      var accounts = d.credit.accounts;
      credit.setOption({
        animation: !isTv,
        title: {show: accounts.length === 0, text: "没有下级额度账户", left: "center", top: "middle",
                textStyle: {fontSize: big + 2, fontWeight: "normal", color: isTv ? "#94a3b8" : "#9ca3af"}},
        textStyle: {fontSize: big, color: fg},
        grid: {left: 8, right: 24, top: 8, bottom: 8, containLabel: true},
        tooltip: {trigger: "axis"},
        xAxis: {type: "value", axisLabel: {fontSize: big, color: fg}},
        yAxis: {type: "category", inverse: true, data: accounts.map(function (a) { return a.org_name; }), axisLabel: {fontSize: big, color: fg}},
        series: [{type: "bar", name: "可用额度", data: accounts.map(function (a) {
          return {value: Number(a.available), itemStyle: {color: a.low ? "#d64545" : "#1f9d55"}};
        })}]
      });
      credit.off("click");
      credit.on("click", function (p) {
        var a = accounts[p.dataIndex];
        if (a && !isTv) window.location.href = "/credit/accounts/" + a.org_id;
      });
    }
  }
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  // --- live -------------------------------------------------------------------------------------
  body.addEventListener("htmx:wsOpen", function () {
    show("db-reconnect", false);
    refresh();  // on every open, the first included: whatever changed meanwhile shows now
  });
  body.addEventListener("htmx:wsClose", function (evt) {
    var code = evt.detail && evt.detail.event && evt.detail.event.code;
    if (isTv && REVOKED_CODES.indexOf(code) >= 0) { off = true; show("db-off", true); return; }
    show("db-reconnect", true);
  });
  body.addEventListener("htmx:wsAfterMessage", function (evt) {
    var doc = new DOMParser().parseFromString(String(evt.detail.message), "text/html");
    var el = doc.getElementById("live-signal");
    if (!el) return;
    if (el.dataset.topic === "live") { if (el.dataset.kind === "down") show("db-reconnect", true); return; }
    if (el.dataset.kick && isTv) { off = true; show("db-off", true); return; }
    if (TOPICS.indexOf(el.dataset.topic) >= 0 && !el.dataset.own) refresh();  // own: its record's page only
  });
  if (isTv && window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.min(1000 * Math.pow(2, retries), 15000) * (0.5 + Math.random() / 2);
    };
  }
  var form = document.querySelector("[data-db-org-form]");
  if (form) form.addEventListener("change", function () { form.submit(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
