// On every page (the site's policy allows no inline handlers): a <select data-autosubmit> sends
// its form when changed; a button with data-opens="ID" opens the <dialog id="ID">; on a narrow
// screen the Menu button (data-navtoggle) shows and hides the navigation.
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
  document.querySelectorAll("[data-navtoggle]").forEach(function (button) {
    var bar = button.closest(".topbar");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
