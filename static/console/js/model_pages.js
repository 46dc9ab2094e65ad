// ML model and evaluation pages: draws the figures console/model_charts.py built, including the
// live loss curve inside the progress panel htmx swaps every 2 s, and auto-submits the class
// selector (which also works as a plain form without JavaScript).
"use strict";
(() => {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // Every <div data-figure="id"> whose figure is in <script id="id" type="application/json">.
  // A swapped-in panel brings a fresh, undrawn div, so each poll redraws the loss curve.
  function drawFigures(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-figure]:not([data-drawn])").forEach((el) => {
      const fig = readJson(el.dataset.figure);
      if (!fig) return;
      el.dataset.drawn = "1";
      Plotly.newPlot(el, fig.data, fig.layout, CONFIG);
    });
  }

  function wireAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawFigures(document);
    wireAutosubmit(document);
  });
  document.addEventListener("htmx:afterSettle", (event) => drawFigures(event.target.parentNode || document));
})();
