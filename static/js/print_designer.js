// 套打 designer (【打印模板】, overlay mode): the form image at the paper's size, the fields placed
// on it by dragging (pointer) or nudged with the arrow keys (0.5 mm; Shift 5 mm), the line block's
// first row likewise (its y is the block's), fields added from the field list. Everything is kept
// in the form's JSON fields (fields_json, line_block_json), which the preview and 保存 read.
(function () {
  "use strict";
  var NUDGE = 0.5, BIG = 5;
  function init() {
    var box = document.getElementById("pr-designer");
    var form = document.getElementById("template-form");
    if (!box || !form) return;
    var fieldsInput = form.querySelector("[name=fields_json]");
    var blockInput = form.querySelector("[name=line_block_json]");
    var card = document.getElementById("pr-designer-card");
    var mode = document.getElementById("t-mode");
    var selectedNote = document.getElementById("pr-selected");
    var labels = {};
    document.querySelectorAll("[data-label]").forEach(function (b) {
      labels[b.dataset.addField || b.dataset.addLineField] = b.dataset.label;
    });
    function parse(input, fallback) {
      try { return JSON.parse(input.value || "") || fallback; } catch (e) { return fallback; }
    }
    var fields = parse(fieldsInput, []);
    var block = parse(blockInput, {});
    block.y_mm = block.y_mm || 0; block.row_pitch_mm = block.row_pitch_mm || 6;
    block.max_rows = block.max_rows || 10; block.fields = block.fields || [];
    var selected = null;
    function round(v) { return Math.round(v * 10) / 10; }
    var presets = JSON.parse(box.dataset.papers || "{}");
    function paperSize() {
      var preset = presets[form.querySelector("[name=paper_preset]").value];
      if (preset) return { w: preset[0], h: preset[1] };
      var w = parseFloat(form.querySelector("[name=paper_width_mm]").value) || parseFloat(box.dataset.widthMm);
      var h = parseFloat(form.querySelector("[name=paper_height_mm]").value) || parseFloat(box.dataset.heightMm);
      return { w: w, h: h };
    }
    function pxPerMm() { return box.getBoundingClientRect().width / paperSize().w; }
    function save() {
      fieldsInput.value = JSON.stringify(fields, null, 1);
      blockInput.value = JSON.stringify(block, null, 1);
      fieldsInput.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function place(el, f, top) {
      el.style.left = f.x_mm + "mm";
      el.style.top = top + "mm";
      el.style.width = f.width_mm + "mm";
      el.style.fontSize = f.font_size_pt + "pt";
      el.style.fontWeight = f.bold ? "700" : "400";
      el.style.textAlign = f.align || "left";
    }
    function draw() {
      var size = paperSize();
      box.style.width = size.w + "mm";
      box.style.height = size.h + "mm";
      box.textContent = "";
      var bg = document.getElementById("pr-bg-id").value;
      if (bg) {
        var img = document.createElement("img");
        img.className = "pr-designer-bg";
        img.alt = "";
        img.src = "/system/print-templates/backgrounds/" + bg;
        box.appendChild(img);
      }
      var band = document.createElement("div");
      band.className = "pr-designer-band";
      band.dataset.kind = "block";
      band.style.top = block.y_mm + "mm";
      band.style.height = block.row_pitch_mm + "mm";
      band.tabIndex = 0;
      band.title = "明细行区域（拖动上下移动）";
      box.appendChild(band);
      fields.forEach(function (f, i) { box.appendChild(fieldEl(f, f.y_mm, "field", i)); });
      block.fields.forEach(function (f, i) { box.appendChild(fieldEl(f, block.y_mm + f.y_mm, "line", i)); });
      if (selected) {
        var again = box.querySelector('[data-kind="' + selected.kind + '"][data-index="' + selected.index + '"]');
        if (again) again.classList.add("selected");
      }
    }
    function fieldEl(f, top, kind, index) {
      var el = document.createElement("div");
      el.className = "pr-designer-field" + (kind === "line" ? " line" : "");
      el.dataset.kind = kind;
      el.dataset.index = index;
      el.dataset.key = f.key;
      el.tabIndex = 0;
      el.textContent = labels[f.key] || f.key;
      place(el, f, top);
      return el;
    }
    function itemOf(el) {
      if (el.dataset.kind === "block") return block;
      return (el.dataset.kind === "line" ? block.fields : fields)[+el.dataset.index];
    }
    function select(el) {
      box.querySelectorAll(".selected").forEach(function (s) { s.classList.remove("selected"); });
      selected = el ? { kind: el.dataset.kind, index: el.dataset.index } : null;
      if (el) { el.classList.add("selected"); el.focus(); }
      var item = el && itemOf(el);
      selectedNote.textContent = !el ? "未选中字段" : el.dataset.kind === "block"
        ? "明细行区域：纵 " + block.y_mm + " 毫米，行距 " + block.row_pitch_mm + " 毫米"
        : (labels[item.key] || item.key) + "：横 " + item.x_mm + "，纵 " + item.y_mm + " 毫米";
    }
    function move(el, dx, dy) {
      var item = itemOf(el);
      if (el.dataset.kind === "block") item.y_mm = round(Math.max(0, item.y_mm + dy));
      else { item.x_mm = round(item.x_mm + dx); item.y_mm = round(item.y_mm + dy); }
      draw(); select(box.querySelector('[data-kind="' + el.dataset.kind + '"][data-index="' + (el.dataset.index || "") + '"]') || box.querySelector(".pr-designer-band"));
      save();
    }
    var drag = null;
    box.addEventListener("pointerdown", function (evt) {
      var el = evt.target.closest(".pr-designer-field, .pr-designer-band");
      if (!el) { select(null); return; }
      evt.preventDefault();
      select(el);
      var item = itemOf(el);
      drag = { el: el, x: evt.clientX, y: evt.clientY, x0: item.x_mm, y0: item.y_mm, scale: pxPerMm() };
      box.setPointerCapture(evt.pointerId);
    });
    box.addEventListener("pointermove", function (evt) {
      if (!drag) return;
      var item = itemOf(drag.el);
      var dx = (evt.clientX - drag.x) / drag.scale, dy = (evt.clientY - drag.y) / drag.scale;
      if (drag.el.dataset.kind !== "block") item.x_mm = round(drag.x0 + dx);
      item.y_mm = round(Math.max(drag.el.dataset.kind === "block" ? 0 : -50, drag.y0 + dy));
      drag.el.style.left = drag.el.dataset.kind === "block" ? "" : item.x_mm + "mm";
      drag.el.style.top = (drag.el.dataset.kind === "line" ? block.y_mm + item.y_mm : item.y_mm) + "mm";
    });
    box.addEventListener("pointerup", function () {
      if (!drag) return;
      var el = drag.el; drag = null;
      draw();
      select(box.querySelector('[data-kind="' + el.dataset.kind + '"]' + (el.dataset.index !== undefined ? '[data-index="' + el.dataset.index + '"]' : "")));
      save();
    });
    box.addEventListener("keydown", function (evt) {
      var el = evt.target.closest(".pr-designer-field, .pr-designer-band");
      if (!el) return;
      var step = evt.shiftKey ? BIG : NUDGE;
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[evt.key]) { evt.preventDefault(); move(el, moves[evt.key][0], moves[evt.key][1]); }
      if ((evt.key === "Delete" || evt.key === "Backspace") && el.dataset.kind !== "block") {
        evt.preventDefault();
        (el.dataset.kind === "line" ? block.fields : fields).splice(+el.dataset.index, 1);
        selected = null; draw(); select(null); save();
      }
    });
    document.addEventListener("click", function (evt) {
      var add = evt.target.closest("[data-add-field], [data-add-line-field]");
      if (!add) return;
      var line = !!add.dataset.addLineField;
      var list = line ? block.fields : fields;
      list.push({ key: add.dataset.addField || add.dataset.addLineField, x_mm: 10 + list.length * 5, y_mm: line ? 0 : 10 + list.length * 8,
                  width_mm: 40, font_size_pt: 10, align: "left", bold: false });
      if (mode.value !== "overlay") { mode.value = "overlay"; showMode(); }
      draw(); select(box.querySelector('[data-kind="' + (line ? "line" : "field") + '"][data-index="' + (list.length - 1) + '"]')); save();
    });
    var source = document.getElementById("t-source");
    function showMode() { card.hidden = mode.value !== "overlay"; source.hidden = mode.value === "overlay"; }
    mode.addEventListener("change", function () { showMode(); draw(); });
    showMode();
    form.addEventListener("change", function (evt) { if (/^paper_/.test(evt.target.name)) draw(); });
    document.getElementById("pr-bg-file").addEventListener("change", function (evt) {
      var file = evt.target.files[0];
      if (!file) return;
      var body = new FormData();
      body.append("file", file);
      var token = (JSON.parse(document.body.getAttribute("hx-headers") || "{}"))["x-csrftoken"] || "";
      fetch("/system/print-templates/backgrounds", { method: "POST", body: body, headers: { "x-csrftoken": token } })
        .then(function (r) { return r.ok ? r.json() : r.text().then(function (t) { throw new Error(t); }); })
        .then(function (bg) {
          document.getElementById("pr-bg-id").value = bg.id;
          draw(); save();
        })
        .catch(function (err) { var box_ = form.querySelector(".form-error"); if (box_) box_.textContent = err.message; });
    });
    draw();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
