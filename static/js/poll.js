// A job's page (ingest batch, reconciliation): while the job is queued or running, poll its
// status endpoint (data-status-url), show the rows done, and reload the page when it ends.
(function () {
  var el = document.querySelector("[data-status-url]");
  if (!el || ["queued", "running"].indexOf(el.dataset.status) < 0) return;
  setInterval(function () {
    fetch(el.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      if (d.status !== "queued" && d.status !== "running") { location.reload(); return; }
      var n = document.getElementById("rows-done");
      if (n) n.textContent = d.rows_done;
    });
  }, 1500);
})();
