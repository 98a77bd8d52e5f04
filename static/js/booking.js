// The public booking page: only the chosen day's slots show, and a slot of another day is
// unchosen when the day changes. Without this file every day's slots show, each with its date.
(function () {
  "use strict";
  var form = document.getElementById("bk-form");
  if (!form) return;
  function showDay() {
    var day = form.querySelector("input[name=day]:checked");
    form.querySelectorAll(".bk-day").forEach(function (el) {
      var on = !!day && el.dataset.day === day.value;
      el.hidden = !on;
      if (!on) el.querySelectorAll("input[name=slot]:checked").forEach(function (i) { i.checked = false; });
    });
    form.querySelectorAll(".bk-day-label").forEach(function (el) { el.hidden = true; });
  }
  form.addEventListener("change", function (evt) { if (evt.target.name === "day") showDay(); });
  showDay();
})();
