// Weifu front-end glue: error display, dialogs, live signals, the menu and the small behaviours
// templates declare with data-* attributes. No framework. The Content-Security-Policy allows no
// inline script (no onclick=, no hx-on:*, no hx-trigger filter `[...]`: htmx runs those with
// new Function), so every handler lives in this file.
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
  // Refused fields (X-Field-Errors) are marked each with its message below it, all at once.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = xhr.responseText && xhr.responseText.length < 500 ? xhr.responseText : "操作失败，请稍后重试";
    var form = evt.detail.elt.closest("form");
    var box = form && form.querySelector(".form-error");
    var marked = form ? markFields(form, xhr.getResponseHeader("X-Field-Errors")) : 0;
    if (box) {
      box.textContent = marked > 1 ? "有 " + marked + " 处填写需要修改，见各栏下方的提示" : message;
      box.scrollIntoView({block: "nearest"});
    } else if (!marked) toast(message, "error");
  });
  function clearFields(form) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".field-invalid").forEach(function (el) {
      el.classList.remove("field-invalid");
      el.removeAttribute("aria-invalid");
    });
  }
  function markFields(form, header) {
    clearFields(form);
    if (!header) return 0;
    var errors;
    try { errors = JSON.parse(decodeURIComponent(header)); } catch (e) { return 0; }
    var count = 0;
    errors.forEach(function (err) {
      // "name#n": the n-th field of that name (a form's n-th line row)
      var nth = /^(.+)#(\d+)$/.exec(err.field);
      var input = nth ? form.querySelectorAll('[name="' + nth[1] + '"]')[Number(nth[2])]
        : form.querySelector('[name="' + err.field + '"]') || form.querySelector('[data-field="' + err.field + '"]');
      if (!input) return;
      count += 1;
      var picker = input.type === "hidden" && input.closest(".picker");
      if (picker) input = picker.querySelector(".picker-input") || input;  // the box people see
      // a group of checkboxes (roles, permissions) is marked as a whole, its note below it
      var group = input.type === "checkbox" && input.closest("[data-field]");
      if (group) input = group;
      input.classList.add("field-invalid");
      input.setAttribute("aria-invalid", "true");
      var note = document.createElement("div");
      note.className = "field-error";
      note.textContent = err.detail;
      var anchor = input.closest(".picker") || input;
      anchor.insertAdjacentElement("afterend", note);
      if (count === 1) input.focus();
    });
    return count;
  }
  // 【筛选】 on phones (macro filter_form): opens and folds the list's filters, and counts the
  // ones chosen: a select off its first option (or off its data-default), a ticked box, a
  // picked value, a filled date. The search box stays in view and is not counted.
  function countFilters(form) {
    var count = 0;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "q" || el.type === "search" || el.matches(".picker-input")) return;
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked) count += 1; }
      else if (el.tagName === "SELECT") { if (el.value !== (el.dataset.default || el.options[0] && el.options[0].value || "")) count += 1; }
      else if (el.value) count += 1;
    });
    var badge = form.querySelector(".filter-count");
    if (badge) { badge.textContent = count; badge.hidden = !count; }
  }
  function countAllFilters() { document.querySelectorAll("form.filters").forEach(countFilters); }
  document.addEventListener("DOMContentLoaded", countAllFilters);
  document.addEventListener("htmx:historyRestore", countAllFilters);
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest && evt.target.closest("form.filters");
    if (form) countFilters(form);
  });
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest && evt.target.closest("[data-filter-toggle]");
    if (!toggle) return;
    var open = toggle.form.classList.toggle("filters-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A select whose options carry data-fill sets another field when it changes (a new org's level
  // follows the chosen parent: one below it).
  document.addEventListener("change", function (evt) {
    var select = evt.target.closest && evt.target.closest("select[data-fills]");
    if (!select) return;
    var option = select.options[select.selectedIndex];
    var target = document.querySelector(select.dataset.fills);
    if (option && target && option.dataset.fill) target.value = option.dataset.fill;
  });
  // data-switch="<selector>": this select shows, inside that region, the elements declared for its
  // value (data-when="v") or for any other (data-unless="v"); the fields of hidden ones are
  // disabled, so they are not sent (【物流发货】: 订单 asks for an order, the others a receiving org).
  document.addEventListener("change", function (evt) {
    var select = evt.target.closest && evt.target.closest("select[data-switch]");
    var region = select && document.querySelector(select.dataset.switch);
    if (!region) return;
    region.querySelectorAll("[data-when], [data-unless]").forEach(function (el) {
      var shown = el.dataset.when !== undefined ? el.dataset.when === select.value : el.dataset.unless !== select.value;
      el.hidden = !shown;
      el.querySelectorAll("input, select, textarea").forEach(function (f) { f.disabled = !shown; });
    });
  });
  document.addEventListener("htmx:sendError", function () { toast("网络连接失败，请检查网络后重试", "error"); });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt.closest && evt.detail.elt.closest("form");
    var box = form && form.querySelector(".form-error");
    if (box && evt.detail.elt === form) { box.textContent = ""; clearFields(form); }
  });

  // A saved form: close its dialog, say so, and refresh the regions of its topic.
  document.addEventListener("weifu:saved", onSaved);
  function onSaved(evt) {
    var detail = evt.detail || {};
    var dialog = document.querySelector("#modal dialog[open]");
    if (dialog) dialog.close();
    if (detail.message) toast(detail.message, "ok");
    release(evt.target);  // an inline editor saved: the refresh below replaces it
    if (detail.topic) signal(detail.topic);
  }
  // An inline editor done with (saved, or 取消): the region's next live refresh may replace it.
  function release(el) {
    var keeper = el && el.closest && el.closest("[data-live-keep]");
    if (keeper) delete keeper.dataset.liveKeep;
  }

  // Dialog fragments loaded into #modal open themselves, once settled: htmx attaches the
  // fragment's own hx-* behaviour at settle, so a dialog shown at swap could take a change
  // (a user form's org) before its handler exists, and drop it.
  document.addEventListener("htmx:afterSettle", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "modal") {
      var dialog = evt.detail.target.querySelector("dialog");
      if (!dialog) return;
      // A picker that gets the focus as the dialog opens (showModal focuses too) stays closed:
      // its list would cover the fields below before the user asked for it; a click or typing
      // opens it. focusin runs synchronously, so the marks are gone once the focus is set.
      var quiet = dialog.querySelectorAll(".picker-input");
      quiet.forEach(function (input) { input.dataset.quiet = "1"; });
      if (!dialog.open) dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]):not([readonly]), select, textarea");
      if (first) first.focus();
      quiet.forEach(function (input) { delete input.dataset.quiet; });
    }
  });
  document.addEventListener("click", function (evt) {
    var closer = evt.target.closest("[data-dialog-close]");
    if (closer) { var d = closer.closest("dialog"); if (d) d.close(); }
    if (evt.target.closest("[data-menu-toggle]")) document.body.classList.toggle("menu-open");
    if (evt.target.closest("[data-menu-close]")) document.body.classList.remove("menu-open");
    // An export link takes the filters as they are now, not as the page was first drawn.
    var exporter = evt.target.closest("a[data-export]");
    var filters = exporter && document.querySelector(exporter.dataset.export);
    if (filters) {
      var query = new URLSearchParams(new FormData(filters));
      Array.from(query.keys()).forEach(function (k) { if (!query.get(k)) query.delete(k); });
      exporter.href = exporter.getAttribute("href").split("?")[0] + (query.toString() ? "?" + query : "");
    }
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

  // Pickers (macro `picker`): typing asks the server for options; choosing sets the hidden id.
  var pickerSeq = 0;
  function pickerParts(el) {
    var box = el.closest(".picker");
    return box && {box: box, value: box.querySelector("input[type=hidden]"), input: box.querySelector(".picker-input"),
      list: box.querySelector(".picker-list")};
  }
  function pickerClose(p) {
    clearTimeout(p.box.pickerTimer);
    p.box.focusLoaded = false;
    p.box.dataset.seq = ++pickerSeq;  // a search still under way must not reopen the list
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
  }
  function pickerSet(p, value, label) {
    p.input.value = label;
    p.input.dataset.label = label;
    if (p.value.value === value) return;
    p.value.value = value;
    p.value.setAttribute("value", value);
    p.value.dispatchEvent(new Event("change", {bubbles: true}));
  }
  // One list open at a time: a picker that starts a search closes every other one.
  function pickerCloseOthers(p) {
    document.querySelectorAll(".picker-list:not([hidden])").forEach(function (list) {
      if (list !== p.list) pickerClose(pickerParts(list));
    });
  }
  function pickerLoad(p) {
    pickerCloseOthers(p);
    var url = new URL(p.box.dataset.source, window.location.href);
    url.searchParams.set("q", p.input.value === p.input.dataset.label ? "" : p.input.value.trim());
    if (p.box.dataset.include) {
      document.querySelectorAll(p.box.dataset.include).forEach(function (f) { if (f.name) url.searchParams.set(f.name, f.value); });
    }
    var seq = ++pickerSeq;
    p.box.dataset.seq = seq;
    fetch(url, {headers: {"HX-Request": "true"}, credentials: "same-origin"}).then(function (r) {
      return r.text().then(function (text) { return {ok: r.ok, text: text}; });
    }).then(function (res) {
      if (String(seq) !== p.box.dataset.seq) return;  // a newer search is under way
      if (res.ok) p.list.innerHTML = res.text;
      else { p.list.innerHTML = ""; var li = document.createElement("li"); li.className = "picker-note"; li.textContent = res.text; p.list.appendChild(li); }
      var first = p.list.querySelector(".picker-option");
      if (first) first.classList.add("active");
      pickerCloseOthers(p);
      p.list.hidden = false;
      p.input.setAttribute("aria-expanded", "true");
    }).catch(function () { toast("网络连接失败，请检查网络后重试", "error"); });
  }
  document.addEventListener("focusin", function (evt) {
    if (!evt.target.matches(".picker-input")) return;
    var p = pickerParts(evt.target);
    if (p.input.dataset.label === undefined) p.input.dataset.label = p.input.value;
    if (p.input.dataset.quiet) { delete p.input.dataset.quiet; return; }
    p.box.focusLoaded = true;  // the click that brought the focus here must not search again
    pickerLoad(p);
  });
  // A click in a box that already has the focus (opened quietly, or closed with Esc) opens it.
  document.addEventListener("click", function (evt) {
    if (!evt.target.matches(".picker-input")) return;
    var p = pickerParts(evt.target);
    if (p.box.focusLoaded) { p.box.focusLoaded = false; return; }
    if (p.list.hidden) pickerLoad(p);
  });
  document.addEventListener("input", function (evt) {
    if (!evt.target.matches(".picker-input")) return;
    var p = pickerParts(evt.target);
    clearTimeout(p.box.pickerTimer);
    p.box.pickerTimer = setTimeout(function () { pickerLoad(p); }, 200);
  });
  document.addEventListener("focusout", function (evt) {
    if (!evt.target.matches(".picker-input")) return;
    var p = pickerParts(evt.target);
    setTimeout(function () {
      if (p.box.contains(document.activeElement)) return;
      pickerClose(p);
      // Text typed but nothing chosen: an emptied box clears the choice, anything else is undone.
      if (p.input.value.trim() === "") pickerSet(p, "", "");
      else p.input.value = p.input.dataset.label || "";
    }, 150);
  });
  // The visible box never submits or triggers filters by itself; only the hidden id does.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches(".picker-input")) evt.stopPropagation();
  }, true);
  document.addEventListener("keydown", function (evt) {
    if (!evt.target.matches(".picker-input")) return;
    var p = pickerParts(evt.target);
    var options = Array.prototype.slice.call(p.list.querySelectorAll(".picker-option"));
    var index = options.findIndex(function (o) { return o.classList.contains("active"); });
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      evt.preventDefault();
      if (p.list.hidden) { pickerLoad(p); return; }
      if (!options.length) return;
      if (index >= 0) options[index].classList.remove("active");
      index = (index + (evt.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      options[index].classList.add("active");
      options[index].scrollIntoView({block: "nearest"});
    } else if (evt.key === "Enter") {
      evt.preventDefault();  // Enter chooses; it never submits the form around the picker
      if (p.list.hidden) return;
      if (index >= 0) pickerSet(p, options[index].dataset.value, options[index].dataset.label);
      pickerClose(p);
    } else if (evt.key === "Escape" && !p.list.hidden) {
      evt.preventDefault();
      evt.stopPropagation();
      p.input.value = p.input.dataset.label || "";
      pickerClose(p);
    }
  });
  document.addEventListener("mousedown", function (evt) {
    var option = evt.target.closest(".picker-option");
    var clear = evt.target.closest(".picker-clear");
    if (!option && !clear) return;
    evt.preventDefault();  // keep the focus in the box
    var p = pickerParts(option || clear);
    if (option) { pickerSet(p, option.dataset.value, option.dataset.label); pickerClose(p); }
    else { pickerSet(p, "", ""); p.input.focus(); }
  });

  // Checkbox lists (.check-box): 全选 (un)checks the rows the filter shows, which is also what its
  // own state follows; the count shows every checked row.
  function checkBoxRecount(box) {
    var labels = Array.prototype.slice.call(box.querySelectorAll(".check-list label"));
    var count = box.querySelector(".check-count");
    if (count) count.textContent = labels.filter(function (l) { return l.control.checked; }).length;
    var shown = labels.filter(function (l) { return !l.hidden; });
    var on = shown.filter(function (l) { return l.control.checked; }).length;
    var all = box.querySelector(".check-all input");
    if (all) { all.checked = on > 0 && on === shown.length; all.indeterminate = on > 0 && on < shown.length; }
  }
  document.addEventListener("change", function (evt) {
    var box = evt.target.closest && evt.target.closest(".check-box");
    if (!box) return;
    if (evt.target.closest(".check-all")) {
      box.querySelectorAll(".check-list label:not([hidden]) input").forEach(function (c) { c.checked = evt.target.checked; });
    }
    checkBoxRecount(box);
  });
  document.addEventListener("input", function (evt) {
    if (!evt.target.matches(".check-box .check-filter")) return;
    var box = evt.target.closest(".check-box");
    var q = evt.target.value.trim().toLowerCase();
    box.querySelectorAll(".check-list label").forEach(function (l) {
      l.hidden = q !== "" && l.textContent.toLowerCase().indexOf(q) < 0;
    });
    checkBoxRecount(box);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Enter" && evt.target.matches(".check-box .check-filter")) evt.preventDefault();
  });

  // Declared behaviours. data-remove-closest="<selector>": the button removes that ancestor (a
  // row); data-add-row="<template selector>": a copy of that <template>'s content goes in just
  // before it, each "__n__" in its ids and labels' for made unique (a form's 【添加一行】);
  // data-copy-target="<selector>": copies the field's value (data-copied: what to say);
  // data-live-signal="<topic>": refreshes the topic's regions (an inline editor's 取消, which
  // discards what was typed in its form).
  document.addEventListener("click", function (evt) {
    var remover = evt.target.closest("[data-remove-closest]");
    var removed = remover && remover.closest(remover.dataset.removeClosest);
    if (removed) removed.remove();
    var adder = evt.target.closest("[data-add-row]");
    var template = adder && document.querySelector(adder.dataset.addRow);
    if (template) addRow(template);
    var copier = evt.target.closest("[data-copy-target]");
    if (copier) copyField(document.querySelector(copier.dataset.copyTarget), copier.dataset.copied || "已复制");
    var signaller = evt.target.closest("[data-live-signal]");
    if (signaller) {
      var discarded = signaller.closest("form");
      if (discarded) discarded.querySelectorAll("[data-edited]").forEach(function (f) { delete f.dataset.edited; });
      release(signaller);
      signal(signaller.dataset.liveSignal);
    }
  });
  var rowSeq = 0;
  function addRow(template) {
    var row = template.content.cloneNode(true);
    var n = "r" + (++rowSeq);
    row.querySelectorAll("[id], label[for]").forEach(function (el) {
      if (el.id) el.id = el.id.replace("__n__", n);
      if (el.htmlFor) el.htmlFor = el.htmlFor.replace("__n__", n);
    });
    template.parentNode.insertBefore(row, template);
  }
  function copyField(field, message) {
    if (!field) return;
    field.select();
    var copied = navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.resolve(document.execCommand("copy"));
    copied.then(function () { toast(message); }, function () { toast("复制失败，请手动选中链接复制", "error"); });
  }
  // data-select-on-focus: a read-only field whose whole text is selected when it gets the focus.
  document.addEventListener("focusin", function (evt) {
    if (evt.target.matches("[data-select-on-focus]")) evt.target.select();
  });
  // data-check-all="<selector>": this checkbox (un)checks the matching boxes of its table;
  // data-shows="<selector>": this checkbox shows that element while checked.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (box.matches("[data-check-all]")) {
      box.closest("table").querySelectorAll(box.dataset.checkAll).forEach(function (c) { c.checked = box.checked; });
    }
    var shown = box.matches("[data-shows]") && document.querySelector(box.dataset.shows);
    if (shown) shown.hidden = !box.checked;
  });
  // data-enter-clicks="<selector>": Enter in this field clicks that button beside it (not a form submit).
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !evt.target.matches("[data-enter-clicks]")) return;
    evt.preventDefault();
    var button = evt.target.parentElement.querySelector(evt.target.dataset.enterClicks);
    if (button) button.click();
  });
  // data-clear-on-request="<selector>": a request of this form itself (not of a poll inside it)
  // empties that region (a previous report); data-reset-on-success: the form is emptied once its
  // request succeeded.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt.matches && evt.detail.elt.matches("[data-clear-on-request]") && evt.detail.elt;
    var region = form && document.querySelector(form.dataset.clearOnRequest);
    if (region) region.innerHTML = "";
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.target.closest && evt.target.closest("[data-reset-on-success]");
    if (form && evt.detail.successful) form.reset();
  });

  // Live updates: the server pushes a #live-signal fragment; pages listen for live:<topic>.
  // A region that wants only some of its topic's signals declares it: data-live="<topic>" with
  // data-live-kind and/or data-live-ref, and hx-trigger="live:match"; this file sends it
  // live:match for a signal of its topic whose kind and ref agree (a signal without them, such
  // as a form's own save, concerns every region of the topic), and on a resync. A region inside
  // a closed dialog hears nothing.
  function matchRegions(topic, detail) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (el.closest("dialog:not([open])")) return;
      if (topic !== null) {
        if (el.dataset.live !== topic) return;
        if (detail.own && !el.dataset.liveRef && !el.dataset.liveKind) return;
        if (detail.kind && el.dataset.liveKind && el.dataset.liveKind !== detail.kind) return;
        if (detail.ref && el.dataset.liveRef && el.dataset.liveRef !== detail.ref) return;
      }
      el.dispatchEvent(new CustomEvent("live:match", {detail: detail}));  // not bubbling: this region only
    });
  }
  // A live refresh never throws away what someone typed: while a field of a region that the user
  // edited (focused or not: a tap elsewhere, a picker taking the focus) holds a change not yet
  // saved, the region keeps its content (the save brings the page up to date, and the next
  // signal after it refreshes the region as usual). Fields a script filled in do not count.
  function changed(field) {
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      var options = Array.prototype.slice.call(field.options);
      if (field.multiple) return options.some(function (o) { return o.selected !== o.defaultSelected; });
      var initial = options.findIndex(function (o) { return o.defaultSelected; });
      return options.length > 0 && field.selectedIndex !== (initial < 0 ? 0 : initial);
    }
    return field.value !== field.defaultValue;
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (evt) {
      if (evt.isTrusted && /^(INPUT|TEXTAREA|SELECT)$/.test(evt.target.tagName)) evt.target.dataset.edited = "1";
    }, true);
  });
  // A form sent successfully holds nothing unsaved any more (an inline editor saved with
  // hx-swap="none" is replaced by the live refresh its save causes).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.successful && evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("form");
    if (form) form.querySelectorAll("[data-edited]").forEach(function (field) { delete field.dataset.edited; });
  });
  // An editor the user opened in a region (an inline row editor: data-live-keep) keeps the
  // region too, typed in or not yet: a refresh landing just after the click (the resync of a
  // socket opening with the page) took it away under the user's finger.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var trigger = evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent;
    var target = evt.detail.target;
    if (!trigger || trigger.type.indexOf("live:") !== 0 || !target) return;
    var edited = Array.prototype.slice.call(target.querySelectorAll("[data-edited]"));
    if (edited.some(changed) || target.querySelector("[data-live-keep]")) evt.detail.shouldSwap = false;
  });
  // A signal of a kind that concerns only its record's own page (data-own: a work order's quote,
  // notice, GSX repair) reaches only the regions that name a ref or a kind, not the lists that
  // listen to the whole topic.
  function signal(topic, detail) {
    detail = detail || {};
    if (!detail.own) htmx.trigger(document.body, "live:" + topic, detail);
    matchRegions(topic, detail);
  }
  var dot = function (state, title) {
    var el = document.getElementById("live-dot");
    if (el) { el.className = "live-dot " + state; el.title = title; }
  };
  // Reconnecting: the first retry within a second, later ones back off to at most 15 s (htmx's
  // default grows to a minute, too long a wait once the server is back).
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.min(1000 * Math.pow(2, retries), 15000) * (0.5 + Math.random() / 2);
    };
  }
  var reconnecting = function () { dot("reconnecting", "实时连接：重新连接中…"); };
  document.addEventListener("htmx:wsOpen", function () {
    dot("online", "实时连接：在线");
    // On every open, the first one included, the live regions are re-fetched (they listen for
    // live:resync): whatever changed since the page was drawn, or while there was no socket,
    // shows now. An event committed between the page's render and its subscription is in it.
    htmx.trigger(document.body, "live:resync");
    matchRegions(null, {});
  });
  document.addEventListener("htmx:wsClose", function (evt) {
    reconnecting();
    var code = evt.detail && evt.detail.event && evt.detail.event.code;
    if (code === 4401 || code === 4403) window.location.href = "/login?ended=1";
  });
  document.addEventListener("htmx:wsAfterMessage", function (evt) {
    var doc = new DOMParser().parseFromString(String(evt.detail.message), "text/html");
    var el = doc.getElementById("live-signal");
    if (!el) return;
    // The server's live side lost its broker: nothing arrives until it is back, when it closes
    // the socket (1012) and the page resyncs on the next open.
    if (el.dataset.topic === "live") { if (el.dataset.kind === "down") reconnecting(); return; }
    window.weifuLastEvent = {id: Number(el.dataset.eventId), topic: el.dataset.topic, ts: Number(el.dataset.ts)};
    if (el.dataset.kick) { window.location.href = "/login?ended=1"; return; }
    signal(el.dataset.topic, {kind: el.dataset.kind, ref: el.dataset.ref, own: el.dataset.own === "1"});
    // A note (新的物流发货 … 待收货) is for the members of its org whose menu counts the topic
    // (data-live-note on the badge): a toast on whatever page they are; ancestors only refresh.
    if (el.dataset.note && el.dataset.org === document.body.dataset.org &&
        document.querySelector('[data-live-note="' + el.dataset.topic + '"]')) toast(el.dataset.note);
    // A personal note (GSX: 可取机, to the order's technician) came on their own channel only.
    else if (el.dataset.note && el.dataset.org === "personal") toast(el.dataset.note);
  });
})();
