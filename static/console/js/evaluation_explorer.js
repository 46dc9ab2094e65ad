// The multiclass explorer: switch the confusion matrix between counts, row and column
// percentages (recoloured like console/model_charts.py's _cell), open a cell's stored example
// records, and sort the per-class table. Without JavaScript the page shows row percentages and
// the table in class order, as the server renders them.
"use strict";
(() => {
  const BLUE = [0, 115, 187];
  const ORANGE = [236, 114, 17];

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function formatCount(n) {
    return n.toLocaleString("en-US");
  }

  // Same formula as the server: darker for a larger share, an empty cell stays white.
  function colour(share, count, diagonal) {
    const base = diagonal ? BLUE : ORANGE;
    const alpha = count ? 0.08 + 0.85 * Math.max(0, Math.min(1, share)) : 0;
    const [r, g, b] = base.map((c) => Math.round(255 - (255 - c) * alpha));
    return { css: `rgb(${r}, ${g}, ${b})`, dark: alpha > 0.55 };
  }

  function matrixCells(card) {
    return [...card.querySelectorAll("td.cell[data-cell]")].map((td) => {
      const [i, j] = td.dataset.cell.split(",").map(Number);
      return { td, i, j, count: Number(td.dataset.count) };
    });
  }

  function showMode(card, mode) {
    const cells = matrixCells(card);
    const rows = {}, columns = {};
    cells.forEach((c) => {
      rows[c.i] = (rows[c.i] || 0) + c.count;
      columns[c.j] = (columns[c.j] || 0) + c.count;
    });
    cells.forEach((c) => {
      const rowShare = rows[c.i] ? c.count / rows[c.i] : 0;
      const columnShare = columns[c.j] ? c.count / columns[c.j] : 0;
      const share = mode === "column" ? columnShare : rowShare;
      // the cell's first child is its text ("42%"), before the count's span
      const main = c.td.firstChild;
      const sub = c.td.querySelector(".cell-count");
      main.textContent = mode === "count" ? formatCount(c.count) : `${Math.round(100 * share)}%`;
      sub.hidden = mode === "count";
      const paint = colour(mode === "count" ? rowShare : share, c.count, c.i === c.j);
      c.td.style.background = paint.css;
      c.td.classList.toggle("dark", paint.dark);
    });
    card.querySelectorAll(".matrix-modes button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    });
  }

  function cellText(value) {
    if (value === null || value === undefined || value === "") return "—";
    return typeof value === "number" ? String(Number(value.toPrecision(6))) : String(value);
  }

  function td(text, className) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (className) cell.className = className;
    return cell;
  }

  function th(text, className) {
    const cell = document.createElement("th");
    cell.textContent = text;
    if (className) cell.className = className;
    return cell;
  }

  function showExamples(panel, examples, labels, cell) {
    const records = examples.cells[`${cell.i},${cell.j}`] || [];
    const trueLabel = labels[cell.i], predictedLabel = labels[cell.j];
    panel.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = `True ${trueLabel}, predicted ${predictedLabel}`;
    const summary = document.createElement("p");
    summary.className = "muted small examples-summary";
    summary.textContent = records.length
      ? `${records.length} of ${formatCount(cell.count)} record${cell.count === 1 ? "" : "s"}, the first in the file. P(true) is the probability the model gave the true class, P(predicted) the one it gave its prediction.`
      : cell.count
        ? "No example was kept for this cell."
        : "No record of this class was predicted as this class.";
    panel.append(title, summary);
    if (records.length) {
      // many inputs may not fit a narrow window: the table scrolls, not the page
      const scroll = document.createElement("div");
      scroll.className = "table-scroll";
      scroll.append(examplesTable(examples, records));
      panel.append(scroll);
    }
    panel.hidden = false;
  }

  function examplesTable(examples, records) {
    const table = document.createElement("table");
    table.className = "grid examples";
    const head = document.createElement("tr");
    head.append(th("Line"));
    if (examples.row_id) head.append(th(examples.row_id));
    head.append(th("True"), th("Predicted"));
    examples.inputs.forEach((name) => head.append(th(name)));
    head.append(th("P(true)", "right"), th("P(predicted)", "right"));
    const body = document.createElement("tbody");
    records.forEach((record) => {
      const row = document.createElement("tr");
      row.append(td(record.file ? `${record.line} (${record.file})` : String(record.line)));
      if (examples.row_id) row.append(td(cellText(record.row_id)));
      row.append(td(record.true), td(record.predicted));
      record.inputs.forEach((value) => row.append(td(cellText(value), "input")));
      row.append(td(record.score_true.toFixed(3), "right"), td(record.score_predicted.toFixed(3), "right"));
      body.append(row);
    });
    const thead = document.createElement("thead");
    thead.append(head);
    table.append(thead, body);
    return table;
  }

  function wireExamples(card) {
    const examples = readJson("cell-examples");
    const labels = readJson("matrix-labels");
    const panel = document.getElementById("cell-examples-panel");
    if (!examples || !labels || !panel) return;
    matrixCells(card).forEach((cell) => {
      cell.td.classList.add("clickable");
      cell.td.tabIndex = 0;
      cell.td.setAttribute("role", "button");
      cell.td.setAttribute("aria-label", `Examples of true ${labels[cell.i]} predicted ${labels[cell.j]}`);
      const open = () => {
        card.querySelectorAll("td.cell.selected").forEach((c) => c.classList.remove("selected"));
        cell.td.classList.add("selected");
        showExamples(panel, examples, labels, cell);
      };
      cell.td.addEventListener("click", open);
      cell.td.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open();
        }
      });
    });
  }

  function wireSorting(table) {
    const hint = table.parentNode.querySelector(".sort-hint");
    if (hint) hint.hidden = false;
    table.querySelectorAll("th[data-sort]").forEach((header, column) => {
      header.tabIndex = 0;
      const sort = () => {
        const descending = header.getAttribute("aria-sort") !== "descending";
        const numeric = header.dataset.sort === "number";
        const body = table.tBodies[0];
        const rows = [...body.rows];
        const value = (row) => row.cells[column].dataset.value ?? row.cells[column].textContent;
        rows.sort((a, b) => {
          const order = numeric ? Number(value(a)) - Number(value(b)) : value(a).localeCompare(value(b));
          return descending ? -order : order;
        });
        table.querySelectorAll("th[data-sort]").forEach((h) => h.removeAttribute("aria-sort"));
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
        body.append(...rows);
      };
      header.addEventListener("click", sort);
      header.addEventListener("keydown", (event) => {
        if (event.key === "Enter") sort();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const card = document.querySelector('[data-explorer="multiclass"]');
    if (card) {
      const modes = card.querySelector(".matrix-modes");
      modes.hidden = false;
      modes.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => showMode(card, b.dataset.mode)));
      wireExamples(card);
    }
    document.querySelectorAll("table.sortable").forEach(wireSorting);
  });
})();
