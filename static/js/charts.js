// Draws the Overview's figures: each .chart[data-figure] reads its JSON script element.
(function () {
  "use strict";
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["lasso2d", "select2d", "sendDataToCloud"]};
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var src = document.getElementById(el.getAttribute("data-figure"));
    if (!src || !window.Plotly) { return; }
    var fig = JSON.parse(src.textContent);
    window.Plotly.newPlot(el, fig.data || [], fig.layout || {}, config);
  });
})();
