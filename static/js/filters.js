// Filter forms: the from/to dates show (and are sent) only for a custom range.
(function () {
  "use strict";
  document.querySelectorAll("form.filters").forEach(function (form) {
    var range = form.querySelector("select[name=range]");
    if (!range) { return; }
    var custom = form.querySelectorAll(".custom-range");
    function sync() {
      var on = range.value === "custom";
      custom.forEach(function (el) {
        el.hidden = !on;
        el.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
      });
    }
    range.addEventListener("change", sync);
    sync();
  });
})();
