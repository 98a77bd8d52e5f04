// 【打印模板】: the edit page's live preview (the form's fields posted to the preview frame a
// moment after each edit: the frame is a page of its own, so the template's CSS stays there),
// the custom paper fields shown only for 自定义, and the list's JSON import sent on choosing a file.
(function () {
  "use strict";
  var DELAY = 500;
  function init() {
    var form = document.getElementById("template-form");
    document.querySelectorAll("input[type=file][data-submit-on-change]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.files.length) input.form.requestSubmit(); });
    });
    if (!form) return;
    var timer = null;
    function preview() {
      var action = form.getAttribute("action"), target = form.getAttribute("target");
      form.setAttribute("action", form.dataset.preview);
      form.setAttribute("method", "post");
      form.setAttribute("target", "pr-preview");
      HTMLFormElement.prototype.submit.call(form); // no submit event: htmx does not save
      if (action === null) form.removeAttribute("action"); else form.setAttribute("action", action);
      if (target === null) form.removeAttribute("target"); else form.setAttribute("target", target);
    }
    function later() { clearTimeout(timer); timer = setTimeout(preview, DELAY); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    var paper = document.getElementById("t-paper");
    var custom = form.querySelector(".pr-custom-paper");
    function showCustom() { custom.hidden = paper.value !== "custom"; }
    paper.addEventListener("change", showCustom);
    showCustom();
    var docType = form.querySelector("[data-reload-new]");
    if (docType) docType.addEventListener("change", function () {
      window.location = "/system/print-templates/new?doc_type=" + encodeURIComponent(docType.value);
    });
    preview();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
