// Data insights: draws the figures console/charts.py built, and the Preview dialog.
// Numeric previews are re-binned here from the stored 1000 counts, so changing the bin count
// (20/50/100/200/500, as AML offered) never asks the server again.
"use strict";
(() => {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // Every <div data-figure="id"> whose figure is in <script id="id" type="application/json">.
  function drawFigures(root) {
    root.querySelectorAll("[data-figure]:not([data-drawn])").forEach((el) => {
      const fig = readJson(el.dataset.figure);
      if (!fig) return;
      el.dataset.drawn = "1";
      Plotly.newPlot(el, fig.data, fig.layout, CONFIG);
    });
  }

  // Same folding as console.charts.fold_histogram: sum groups of adjacent bins.
  function fold(histogram, bins) {
    const counts = histogram.counts;
    const group = Math.max(1, Math.ceil(counts.length / bins));
    const folded = [];
    for (let i = 0; i < counts.length; i += group) {
      let sum = 0;
      for (let j = i; j < Math.min(i + group, counts.length); j++) sum += counts[j];
      folded.push(sum);
    }
    const step = folded.length ? (histogram.max - histogram.min) / folded.length : 0;
    const edges = folded.map((_, i) => histogram.min + i * step).concat([histogram.max]);
    return { edges, counts: folded };
  }

  function numericTrace(base, histogram, bins) {
    const { edges, counts } = fold(histogram, bins);
    const width = edges.length > 1 && edges[1] > edges[0] ? edges[1] - edges[0] : 1;
    const constant = edges[0] === edges[edges.length - 1];
    return Object.assign({}, base, {
      x: counts.map((_, i) => (constant ? edges[0] : (edges[i] + edges[i + 1]) / 2)),
      y: counts,
      width,
      customdata: counts.map((_, i) => [edges[i], edges[i + 1]]),
    });
  }

  const fmt = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumSignificantDigits: 5 }));

  let current = null; // {preview, name} shown in the dialog

  function drawPreview() {
    const { preview } = current;
    const chart = document.getElementById("preview-chart");
    const fig = preview.figure;
    let data = fig.data;
    if (preview.kind === "numeric") {
      const bins = Number(document.getElementById("preview-bins").value);
      data = [numericTrace(fig.data[0], preview.histogram, bins)];
    }
    Plotly.react(chart, data, Object.assign({}, fig.layout, { height: 360 }), CONFIG);
    fillCounts(preview.counts || []);
  }

  function cell(tag, text, className) {
    const node = document.createElement(tag);
    node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // A categorical preview's sample rows: the first records' values (and the target's), asked
  // of the server only when the preview opens.
  async function fillSamples(name, categorical) {
    const box = document.getElementById("preview-samples");
    if (!box) return;
    box.hidden = !categorical;
    if (!categorical) return;
    const [head, body] = [box.querySelector("thead"), box.querySelector("tbody")];
    const error = document.getElementById("preview-samples-error");
    head.replaceChildren();
    body.replaceChildren();
    error.hidden = true;
    const response = await fetch(`${box.dataset.url}?${new URLSearchParams({ attribute: name })}`);
    const answer = await response.json();
    if (!current || current.name !== name) return; // another preview opened meanwhile
    if (!response.ok) {
      error.textContent = answer.error;
      error.hidden = false;
      return;
    }
    const headRow = document.createElement("tr");
    headRow.append(cell("th", "Line", "num"), ...answer.columns.map((c) => cell("th", c)));
    head.append(headRow);
    body.append(
      ...answer.rows.map((row) => {
        const tr = document.createElement("tr");
        tr.append(cell("td", String(row.line), "num"), ...row.values.map((v) => cell("td", v)));
        return tr;
      }),
    );
  }

  // The categorical preview's counts table: value, records, share (hidden for a numeric one).
  function fillCounts(rows) {
    const table = document.getElementById("preview-counts");
    if (!table) return;
    table.hidden = rows.length === 0;
    const body = table.querySelector("tbody");
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = document.createElement("tr");
        const cells = [row.value, Number(row.count).toLocaleString("en-US"), `${row.share.toFixed(1)} %`];
        cells.forEach((text, i) => {
          const td = document.createElement("td");
          td.textContent = text;
          if (i > 0) td.className = "num";
          tr.appendChild(td);
        });
        return tr;
      }),
    );
  }

  function openPreview(button) {
    const previews = readJson(button.dataset.previews) || {};
    const preview = previews[button.dataset.preview];
    if (!preview) return;
    current = { preview, name: button.dataset.preview };
    const dialog = document.getElementById("preview-dialog");
    document.getElementById("preview-title").textContent = `Distribution of ${current.name}`;
    const numeric = preview.kind === "numeric";
    document.getElementById("preview-controls").hidden = !numeric;
    if (numeric) {
      const s = preview.summary;
      document.getElementById("preview-bins").value = String(preview.bins);
      document.getElementById("preview-summary").textContent =
        `Min ${fmt(s.min)} · Median ${fmt(s.median)} · Mean ${fmt(s.mean)} · Max ${fmt(s.max)}`;
    }
    dialog.showModal();
    drawPreview();
    fillSamples(current.name, preview.kind === "categorical");
  }

  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-preview]");
    if (button) openPreview(button);
  });
  document.addEventListener("change", (e) => {
    if (e.target.id === "preview-bins" && current) drawPreview();
  });
  document.addEventListener("DOMContentLoaded", () => drawFigures(document));
  // Attribute tables are swapped in by htmx; draw whatever figures they bring.
  document.addEventListener("htmx:afterSettle", () => drawFigures(document));
})();
