// Exports: the Export dialog (range presets). The Async Tasks page's progress is poll.js's.
(function () {
  "use strict";

  // --- the export form: dates only for a custom range; Close shuts the dialog ---------
  document.querySelectorAll("form.export-form").forEach(function (form) {
    var range = form.querySelector("select[name=range]");
    var custom = form.querySelectorAll(".export-custom");
    function sync() {
      var on = range && range.value === "custom";
      custom.forEach(function (el) {
        el.hidden = !on;
        el.querySelectorAll("input").forEach(function (input) { input.disabled = !on; input.required = on; });
      });
    }
    if (range) { range.addEventListener("change", sync); sync(); }
    form.querySelectorAll(".js-export-close").forEach(function (btn) {
      var dialog = form.closest("dialog");
      if (!dialog) { btn.hidden = true; return; }
      btn.addEventListener("click", function () { dialog.close(); });
    });
  });
})();
