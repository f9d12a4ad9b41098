// On every page (the site's policy allows no inline handlers): a <select data-autosubmit> sends
// its form when changed; a button with data-opens="ID" opens the <dialog id="ID">.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-opens]").forEach(function (button) {
    var dialog = document.getElementById(button.getAttribute("data-opens"));
    if (!dialog || !dialog.showModal) { return; }
    button.addEventListener("click", function () { dialog.showModal(); });
  });
})();
