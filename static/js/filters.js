// Filter forms: the from/to dates show (and are sent) only for a custom range; a checklist
// dropdown (<details data-checklist>) names what is ticked in its summary, clears with its
// "Any" button, sends the form with its Apply, and closes on a click outside it or on Escape.
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

  document.querySelectorAll("details[data-checklist]").forEach(function (details) {
    var summary = details.querySelector("summary");
    var none = summary.querySelector(".none");
    var boxes = details.querySelectorAll("input[type=checkbox]");
    function sync() {
      summary.querySelectorAll(".chosen").forEach(function (el) { el.remove(); });
      boxes.forEach(function (box) {
        if (!box.checked) { return; }
        var span = document.createElement("span");
        span.className = "chosen";
        span.textContent = box.parentNode.textContent.trim();
        summary.insertBefore(span, none);
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    var clear = details.querySelector("[data-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        boxes.forEach(function (box) { box.checked = false; });
        sync();
      });
    }
    var apply = details.querySelector("[data-apply]");
    if (apply && apply.form) {
      // The list's own Apply (on a phone the open list covers the form's): sends the form.
      apply.addEventListener("click", function () { apply.form.requestSubmit(); });
    }
    document.addEventListener("click", function (event) {
      if (details.open && !details.contains(event.target)) { details.open = false; }
    });
    details.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && details.open) { details.open = false; summary.focus(); }
    });
  });
})();
