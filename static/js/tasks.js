// Exports: the Export dialog (range presets) and the Async Tasks page (progress by polling).
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

  // --- the Async Tasks page: poll jobs still queued or running every 1.5 s ------------
  var BADGE = { queued: "badge-neutral", running: "badge-warn", done: "badge-ok",
                failed: "badge-bad", cancelled: "badge-neutral", expired: "badge-neutral" };
  var ACTIVE = { queued: true, running: true };
  var INTERVAL = 1500;

  function num(n) { return n === null || n === undefined ? "" : Number(n).toLocaleString("en-US"); }
  function size(bytes) {
    if (!bytes) { return "—"; }
    var units = ["bytes", "KB", "MB", "GB"], i = 0, v = bytes;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : v) + " " + units[i];
  }
  function show(el, on) { if (el) { el.hidden = !on; } }

  function update(row, s) {
    row.dataset.status = s.status;
    var badge = row.querySelector(".js-status");
    if (badge) { badge.textContent = s.status_label; badge.className = "badge js-status " + (BADGE[s.status] || ""); }
    var bar = row.querySelector(".js-bar");
    if (bar) { bar.style.width = s.percent + "%"; bar.parentNode.setAttribute("aria-valuenow", s.percent); }
    var rows = row.querySelector(".js-rows");
    if (rows) {
      rows.textContent = s.rows_total === null ? num(s.rows_done) + " rows"
        : num(s.rows_done) + " of " + num(s.rows_total) + " rows";
    }
    var sz = row.querySelector(".js-size");
    if (sz) { sz.textContent = size(s.size); }
    var dl = row.querySelector(".js-download");
    if (dl && s.download_url) { dl.href = s.download_url; }
    show(dl, s.status === "done");
    show(row.querySelector(".js-cancel"), !!ACTIVE[s.status]);
    show(row.querySelector(".js-retry"), s.status === "failed" || s.status === "cancelled" || s.status === "expired");
    var err = row.querySelector(".js-error");
    if (err) { err.textContent = s.error || ""; show(err, s.status === "failed" && !!s.error); }
  }

  function poll() {
    var rows = Array.prototype.filter.call(document.querySelectorAll("tr.job[data-status-url]"),
      function (row) { return ACTIVE[row.dataset.status]; });
    if (!rows.length) { return; }
    Promise.all(rows.map(function (row) {
      return fetch(row.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) { if (s) { update(row, s); } })
        .catch(function () { /* try again at the next tick */ });
    })).then(function () { window.setTimeout(poll, INTERVAL); });
  }
  if (document.querySelector("tr.job[data-status-url]")) { window.setTimeout(poll, INTERVAL); }
})();
