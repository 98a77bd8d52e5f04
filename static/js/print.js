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
