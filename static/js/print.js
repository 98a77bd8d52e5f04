// The print page (/print/{doc_type}/{id}, and the template previews): 【打印】 and the template select.
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-print-page]")) window.print();
  });
  document.addEventListener("change", function (evt) {
    var select = evt.target.closest("[data-submit-on-change]");
    if (select && select.form) select.form.submit();
  });
})();
// A template's preview in the editor's frame: the paper scaled down to the frame's width (on
// screen only; its true size is what prints).
(function () {
  "use strict";
  function fit() {
    if (!document.body.hasAttribute("data-fit")) return;
    var paper = document.querySelector(".pr-paper");
    if (!paper) return;
    paper.style.zoom = "";
    var scale = Math.min(1, (document.documentElement.clientWidth - 16) / paper.offsetWidth);
    paper.style.zoom = String(scale);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fit); else fit();
  window.addEventListener("resize", fit);
})();
