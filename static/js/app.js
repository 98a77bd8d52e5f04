// Weifu front-end glue: error display, dialogs, live signals and the menu. No framework.
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toast");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast " + (kind || "ok");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, kind === "error" ? 6000 : 3000);
  }
  window.weifuToast = toast;

  // Errors (4xx/5xx) carry a Chinese message: show it in the form's .form-error box, else as a toast.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = xhr.responseText && xhr.responseText.length < 500 ? xhr.responseText : "操作失败，请稍后重试";
    var form = evt.detail.elt.closest("form");
    var box = form && form.querySelector(".form-error");
    if (box) { box.textContent = message; box.scrollIntoView({block: "nearest"}); }
    else toast(message, "error");
  });
  document.addEventListener("htmx:sendError", function () { toast("网络连接失败，请检查网络后重试", "error"); });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt.closest && evt.detail.elt.closest("form");
    var box = form && form.querySelector(".form-error");
    if (box && evt.detail.elt === form) box.textContent = "";
  });

  // A saved form: close its dialog, say so, and refresh the regions of its topic.
  document.addEventListener("weifu:saved", onSaved);
  function onSaved(evt) {
    var detail = evt.detail || {};
    var dialog = document.querySelector("#modal dialog[open]");
    if (dialog) dialog.close();
    if (detail.message) toast(detail.message, "ok");
    if (detail.topic) htmx.trigger(document.body, "live:" + detail.topic);
  }

  // Dialog fragments loaded into #modal open themselves.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "modal") {
      var dialog = evt.detail.target.querySelector("dialog");
      if (dialog && !dialog.open) dialog.showModal();
      var first = dialog && dialog.querySelector("input:not([type=hidden]):not([readonly]), select, textarea");
      if (first) first.focus();
    }
  });
  document.addEventListener("click", function (evt) {
    var closer = evt.target.closest("[data-dialog-close]");
    if (closer) { var d = closer.closest("dialog"); if (d) d.close(); }
    if (evt.target.closest("[data-menu-toggle]")) document.body.classList.toggle("menu-open");
    if (evt.target.closest("[data-menu-close]")) document.body.classList.remove("menu-open");
  });

  // Permission tree: checking a node checks its children; a parent shows whether all are checked.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (!box.matches(".perm-tree input[type=checkbox]")) return;
    var li = box.closest("li");
    li.querySelectorAll("ul input[type=checkbox]").forEach(function (c) { c.checked = box.checked; c.indeterminate = false; });
    var parent = li.parentElement.closest("li");
    while (parent) {
      var own = parent.querySelector(":scope > label input");
      var kids = Array.prototype.slice.call(parent.querySelectorAll(":scope > ul input[type=checkbox]"));
      var on = kids.filter(function (c) { return c.checked; }).length;
      own.checked = on > 0;
      own.indeterminate = on > 0 && on < kids.length;
      parent = parent.parentElement.closest("li");
    }
  });

  // Live updates: the server pushes a #live-signal fragment; pages listen for live:<topic>.
  var dot = function (state, title) {
    var el = document.getElementById("live-dot");
    if (el) { el.className = "live-dot " + state; el.title = title; }
  };
  var everOpened = false;
  document.addEventListener("htmx:wsOpen", function () {
    dot("online", "实时连接：在线");
    // After a drop, whatever was missed is re-fetched: regions listen for live:resync.
    if (everOpened) htmx.trigger(document.body, "live:resync");
    everOpened = true;
  });
  document.addEventListener("htmx:wsClose", function (evt) {
    dot("reconnecting", "实时连接：重新连接中…");
    var code = evt.detail && evt.detail.event && evt.detail.event.code;
    if (code === 4401 || code === 4403) window.location.href = "/login?ended=1";
  });
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    var doc = new DOMParser().parseFromString(String(evt.detail.message), "text/html");
    var el = doc.getElementById("live-signal");
    if (!el) return;
    window.weifuLastEvent = {id: Number(el.dataset.eventId), topic: el.dataset.topic, ts: Number(el.dataset.ts)};
    if (el.dataset.kick) { window.location.href = "/login?ended=1"; return; }
    htmx.trigger(document.body, "live:" + el.dataset.topic, {kind: el.dataset.kind, ref: el.dataset.ref});
  });
})();
