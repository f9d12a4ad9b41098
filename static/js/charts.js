// Draws the Overview's figures: each .chart[data-figure] reads its JSON script element.
// On a narrow screen (a phone) the figures get smaller fonts and margins, so the axes stay
// readable: plotly's automargin then makes room for the tick labels inside the card.
(function () {
  "use strict";
  var NARROW = 600;
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["lasso2d", "select2d", "sendDataToCloud"]};

  function narrowed(layout, traces) {
    var out = Object.assign({}, layout);
    out.font = Object.assign({}, layout.font || {}, {size: 10});
    var m = layout.margin || {};
    out.margin = {l: Math.min(m.l == null ? 40 : m.l, 40), r: Math.min(m.r == null ? 40 : m.r, 36),
                  t: Math.min(m.t == null ? 16 : m.t, 16), b: Math.min(m.b == null ? 32 : m.b, 32)};
    var named = traces.filter(function (t) { return t.type !== "pie" && t.type !== "heatmap" && t.showlegend !== false; });
    if (layout.showlegend !== false && named.length > 1 && (!layout.legend || layout.legend.orientation === "h")) {
      // Two legend entries a row under the plot, the figure taller by as many rows: the plot keeps its height.
      var rows = Math.ceil(named.length / 2);
      out.legend = Object.assign({}, layout.legend || {}, {font: {size: 9}, orientation: "h", entrywidth: 0.5,
                                                            entrywidthmode: "fraction", y: -0.12, yanchor: "top"});
      out.height = (layout.height || 320) + rows * 18;
    } else if (layout.legend) {
      out.legend = Object.assign({}, layout.legend, {font: {size: 9}});
    }
    Object.keys(layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        var axis = Object.assign({automargin: true}, layout[key], {tickfont: {size: 9}});
        if (axis.title) {
          var title = typeof axis.title === "string" ? {text: axis.title} : Object.assign({}, axis.title);
          title.font = {size: 10};
          axis.title = title;
        }
        out[key] = axis;
      }
    });
    return out;
  }

  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var src = document.getElementById(el.getAttribute("data-figure"));
    if (!src || !window.Plotly) { return; }
    var fig = JSON.parse(src.textContent);
    var layout = fig.layout || {};
    if (window.innerWidth < NARROW) { layout = narrowed(layout, fig.data || []); }
    window.Plotly.newPlot(el, fig.data || [], layout, config);
  });
})();
