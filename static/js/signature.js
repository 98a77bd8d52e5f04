// The finger-signature pad of the quote page: pointer events (finger, pen and mouse alike) draw
// on a canvas sized to its box at the screen's pixel ratio; each finished stroke writes the PNG
// data URL into the hidden input the canvas names (data-signature-pad), so the form posts it.
(function () {
  "use strict";
  function setup(canvas) {
    var input = document.getElementById(canvas.dataset.signaturePad);
    var hint = canvas.parentElement.querySelector("[data-signature-hint]");
    var error = canvas.closest("form").querySelector(".form-error");
    var ctx = canvas.getContext("2d");
    var drawing = false, last = null, drawn = false;
    function size() {
      var ratio = window.devicePixelRatio || 1, box = canvas.getBoundingClientRect();
      canvas.width = Math.round(box.width * ratio);
      canvas.height = Math.round(box.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      clear();
    }
    function clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      input.value = "";
      if (hint) hint.hidden = false;
    }
    function point(evt) {
      var box = canvas.getBoundingClientRect();
      return {x: evt.clientX - box.left, y: evt.clientY - box.top};
    }
    canvas.addEventListener("pointerdown", function (evt) {
      evt.preventDefault();
      canvas.setPointerCapture(evt.pointerId);
      drawing = true;
      last = point(evt);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      if (hint) hint.hidden = true;
      if (error) error.textContent = "";
    });
    canvas.addEventListener("pointermove", function (evt) {
      if (!drawing) return;
      evt.preventDefault();
      var p = point(evt);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      drawn = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      drawn = true;
      input.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    document.querySelectorAll('[data-signature-clear="' + canvas.id + '"]').forEach(function (btn) {
      btn.addEventListener("click", clear);
    });
    // a blank pad is not a signature: say so before posting (an htmx form, or a plain one)
    var form = canvas.closest("form");
    function blank(evt) {
      if (drawn) return;
      evt.preventDefault();
      if (error) error.textContent = form.dataset.blankError || "请客户先在框内签字";
    }
    form.addEventListener(form.hasAttribute("hx-post") ? "htmx:confirm" : "submit", blank);
    window.addEventListener("resize", function () { if (!drawn) size(); });
    size();
  }
  function init() { document.querySelectorAll("canvas[data-signature-pad]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
