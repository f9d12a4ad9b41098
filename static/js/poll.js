// The one poller of job rows (ingest batches, exports, reconciliations). Every element with
// data-status-url whose data-status is an active state is polled every 1.5 s; the states
// (label, badge, active, retryable) are rendered into the page by {% job_statuses %} from
// logs.models.jobs.JobStatus, so no second map lives here. The status JSON is the one shape of
// logs.selectors.jobs.job_status; it updates, inside the element: the badge (.js-status), the
// progress bar (.js-bar), the counts (.js-rows, #rows-done), the size (.js-size), the actions
// (.js-download, .js-cancel, .js-retry) and the error (.js-error). An element with
// data-reload-when-finished reloads the page when its job ends (to show the result).
(function () {
  "use strict";
  var source = document.getElementById("job-statuses");
  var STATES = source ? JSON.parse(source.textContent) : {};
  var INTERVAL = 1500;

  function state(status) { return STATES[status] || {}; }
  function num(n) { return n === null || n === undefined ? "" : Number(n).toLocaleString("en-US"); }
  function size(bytes) {
    if (!bytes) { return "—"; }
    var units = ["bytes", "KB", "MB", "GB"], i = 0, v = bytes;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(1) : v) + " " + units[i];
  }
  function show(el, on) { if (el) { el.hidden = !on; } }

  function update(el, s) {
    el.dataset.status = s.status;
    var badge = el.querySelector(".js-status");
    if (badge) { badge.textContent = s.status_label; badge.className = "badge js-status " + (s.badge || ""); }
    var bar = el.querySelector(".js-bar");
    if (bar) { bar.style.width = s.percent + "%"; bar.parentNode.setAttribute("aria-valuenow", s.percent); }
    var rows = el.querySelector(".js-rows");
    if (rows) {
      // the words come from the page, in its language (templates/base.html, body data-i18n-*)
      var words = document.body.dataset, one = words.i18nRows || "%(done)s rows",
        of = words.i18nRowsOf || "%(done)s of %(total)s rows";
      rows.textContent = s.rows_total === null ? one.replace("%(done)s", num(s.rows_done))
        : of.replace("%(done)s", num(s.rows_done)).replace("%(total)s", num(s.rows_total));
    }
    var done = el.querySelector("#rows-done, .js-rows-done");
    if (done) { done.textContent = num(s.rows_done); }
    var sz = el.querySelector(".js-size");
    if (sz) { sz.textContent = size(s.size); }
    var dl = el.querySelector(".js-download");
    if (dl && s.download_url) { dl.href = s.download_url; }
    show(dl, !!s.download_url);
    show(el.querySelector(".js-cancel"), !!s.active);
    show(el.querySelector(".js-retry"), !!state(s.status).retryable);
    var err = el.querySelector(".js-error");
    if (err) { err.textContent = s.error || ""; show(err, !!s.error); }
  }

  function poll() {
    var els = Array.prototype.filter.call(document.querySelectorAll("[data-status-url]"),
      function (el) { return state(el.dataset.status).active; });
    if (!els.length) { return; }
    Promise.all(els.map(function (el) {
      return fetch(el.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          if (!s.active && el.hasAttribute("data-reload-when-finished")) { window.location.reload(); return; }
          update(el, s);
        })
        .catch(function () { /* try again at the next tick */ });
    })).then(function () { window.setTimeout(poll, INTERVAL); });
  }
  window.setTimeout(poll, INTERVAL);
})();
