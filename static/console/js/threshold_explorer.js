// The binary evaluation's threshold explorer: every figure at the cut-off is recomputed here, from
// the stored score counts (1000 bins per true class), on every slider move, with no request.
//
// The arithmetic mirrors the engine exactly (the browser tests compare them):
//   metrics at a cut-off      mlcore.metrics.binary.threshold_metrics_from_counts
//   top X %, find a cut-off,  mlcore.metrics.threshold_search.threshold_for_top_percent,
//   expected cost               find_cutoff, cost_curve / best_cost_threshold
// Change a rule there, change it here.
//
// Speed: a move must redraw within one frame (16 ms). Counts become suffix sums once, so a
// cut-off costs two array reads. Plotly draws each curve once; what moves (the cut-off line, the
// current point) is our own small SVG laid over the plot, placed with the axes' own pixel
// mapping and re-read after every Plotly redraw (resize, new costs). Moving it through
// Plotly.relayout instead cost about 10 ms per chart, 50 ms a move (docs/benchmarks.md).
"use strict";
(() => {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  const BLUE = "#0073bb";
  const ORANGE = "#ec7211";
  const GREY = "#879596";
  // Above the plot, anchored by its bottom edge, as console/charts.py's LEGEND_ABOVE: a legend
  // that wraps at 1024 px grows into the top margin, never over the curves.
  const LEGEND_ABOVE = { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" };
  const INK = "#16191f";
  const URL_DELAY_MS = 300;

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // --- Engine mirror --------------------------------------------------------------------------

  // Suffix sums: records with score >= k/bins are those of bins k..bins.
  function buildGrid(counts) {
    const bins = counts.bins;
    const tp = new Float64Array(bins + 1);
    const fp = new Float64Array(bins + 1);
    let p = 0;
    let n = 0;
    for (let k = bins; k >= 0; k--) {
      p += counts.positive[k];
      n += counts.negative[k];
      tp[k] = p;
      fp[k] = n;
    }
    return { bins, tp, fp, nPos: p, nNeg: n, total: p + n };
  }

  function ratio(num, den) {
    return den !== 0 ? num / den : 0;
  }

  // threshold_metrics_from_counts: a cut-off between grid points rounds up to the next edge.
  function binOf(grid, threshold) {
    const scaled = Math.round(threshold * grid.bins * 1e9) / 1e9;
    return Math.min(Math.max(Math.ceil(scaled), 0), grid.bins);
  }

  function metricsAt(grid, threshold) {
    const k = binOf(grid, threshold);
    const tp = grid.tp[k];
    const fp = grid.fp[k];
    const fn = grid.nPos - tp;
    const tn = grid.nNeg - fp;
    const n = tp + fp + fn + tn;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    return {
      threshold, tp, fp, fn, tn,
      accuracy: ratio(tp + tn, n),
      precision,
      recall,
      false_positive_rate: ratio(fp, fp + tn),
      f1: ratio(2 * precision * recall, precision + recall),
      percent_predicted_positive: 100 * ratio(tp + fp, n),
      percent_predicted_negative: 100 * ratio(fn + tn, n),
    };
  }

  function topPercentThreshold(grid, percent) {
    if (grid.total === 0) return 1;
    for (let k = grid.bins; k >= 0; k--) {
      if ((grid.tp[k] + grid.fp[k]) * 100 >= percent * grid.total) return k / grid.bins;
    }
    return 0;
  }

  // Undefined ratios are NaN here: they never meet a goal and rank below every number.
  function gridValues(grid, k) {
    const tp = grid.tp[k];
    const fp = grid.fp[k];
    const precision = tp + fp !== 0 ? tp / (tp + fp) : NaN;
    const recall = grid.nPos !== 0 ? tp / grid.nPos : NaN;
    const both = precision + recall;
    let f1 = NaN;
    if (!Number.isNaN(both)) f1 = both > 0 ? (2 * precision * recall) / both : 0;
    return {
      precision,
      recall,
      false_positive_rate: grid.nNeg !== 0 ? fp / grid.nNeg : NaN,
      f1,
      accuracy: grid.total !== 0 ? (tp + (grid.nNeg - fp)) / grid.total : NaN,
    };
  }

  const GOALS = {
    precision: { atLeast: true, optimised: "recall" },
    recall: { atLeast: true, optimised: "precision" },
    false_positive_rate: { atLeast: false, optimised: "recall" },
  };

  function low(v) {
    return Number.isNaN(v) ? -Infinity : v;
  }

  // find_cutoff: the best (optimised, F1, accuracy, higher threshold) among those meeting the goal.
  function findCutoff(grid, metric, target) {
    const rule = GOALS[metric];
    let best = -1;
    let bestKey = null;
    for (let k = 0; k <= grid.bins; k++) {
      const v = gridValues(grid, k);
      const goal = v[metric];
      if (Number.isNaN(goal) || !(rule.atLeast ? goal >= target : goal <= target)) continue;
      const key = [low(v[rule.optimised]), low(v.f1), low(v.accuracy)];
      if (best < 0 || !isWorse(key, bestKey)) {
        best = k;
        bestKey = key;
      }
    }
    return best < 0 ? null : { threshold: best / grid.bins, optimised: rule.optimised };
  }

  // Visiting k upwards, an equal key replaces the best: ties go to the higher threshold.
  function isWorse(key, bestKey) {
    for (let i = 0; i < key.length; i++) {
      if (key[i] !== bestKey[i]) return key[i] < bestKey[i];
    }
    return false;
  }

  function costCurve(grid, costs) {
    const out = new Float64Array(grid.bins + 1);
    const records = Math.max(grid.total, 1);
    for (let k = 0; k <= grid.bins; k++) {
      const tp = grid.tp[k];
      const fp = grid.fp[k];
      const total =
        costs.fp * fp + costs.fn * (grid.nPos - tp) - costs.tp * tp - costs.tn * (grid.nNeg - fp);
      out[k] = total / records;
    }
    return out;
  }

  function argmin(values) {
    let best = 0;
    for (let k = 1; k < values.length; k++) if (values[k] < values[best]) best = k;
    return best;
  }

  // --- Formatting (the server's template filters) ----------------------------------------------

  const integer = new Intl.NumberFormat("en-US");
  function label(t) {
    const text = t.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
    return text || "0";
  }
  function significant3(t) {
    // aml_format.number:3 on the heading: three significant digits, no trailing zeros.
    if (Number.isInteger(t)) return String(t);
    return String(Number(t.toPrecision(3)));
  }
  function plural(n, word) {
    return `${integer.format(n)} ${word}${n === 1 ? "" : "s"}`;
  }
  function sentence(m) {
    const n = m.tp + m.tn + m.fp + m.fn;
    if (!n) return "No evaluation record to count.";
    const correct = Math.round((100 * (m.tp + m.tn)) / n);
    return `${correct} % correct, ${100 - correct} % incorrect, ${plural(m.fp, "false positive")}, ${plural(m.fn, "false negative")}`;
  }
  const UNDEFINED = {
    precision: ["tp", "fp", "No record is predicted 1 at this threshold: precision is undefined (0 of 0)", "— (nothing predicted 1)"],
    recall: ["tp", "fn", "No evaluation record is actually 1: recall is undefined (0 of 0)", "— (no actual 1)"],
    false_positive_rate: ["fp", "tn", "No evaluation record is actually 0: the false positive rate is undefined (0 of 0)", "— (no actual 0)"],
  };

  // --- Charts --------------------------------------------------------------------------------

  function baseLayout(extra) {
    return Object.assign(
      {
        height: 320,
        margin: { l: 60, r: 20, t: 30, b: 60 },
        font: { family: "Helvetica Neue, Roboto, Arial, sans-serif", size: 12 },
        paper_bgcolor: "#ffffff",
        plot_bgcolor: "#ffffff",
        showlegend: true,
        legend: LEGEND_ABOVE,
      },
      extra,
    );
  }

  const SVG = "http://www.w3.org/2000/svg";

  // The moving marks of one chart: a dashed vertical line and/or a dot, in data coordinates.
  class Overlay {
    constructor(gd, options) {
      this.gd = gd;
      this.last = null;
      this.svg = document.createElementNS(SVG, "svg");
      this.svg.setAttribute("class", "explorer-overlay");
      this.svg.setAttribute("aria-hidden", "true");
      if (options.line) {
        this.line = document.createElementNS(SVG, "line");
        this.line.setAttribute("stroke", INK);
        this.line.setAttribute("stroke-width", options.thin ? "1" : "2");
        this.line.setAttribute("stroke-dasharray", options.thin ? "2,3" : "6,4");
        this.svg.appendChild(this.line);
      }
      if (options.dot) {
        this.dot = document.createElementNS(SVG, "circle");
        this.dot.setAttribute("r", "6");
        this.dot.setAttribute("fill", options.dot);
        this.dot.setAttribute("stroke", "#ffffff");
        this.svg.appendChild(this.dot);
      }
      gd.style.position = "relative";
      gd.on("plotly_afterplot", () => this.rescale());
      this.rescale();
    }

    // Plotly's axes after its latest draw: offset + linear-to-pixel, as Plotly places points.
    rescale() {
      const full = this.gd._fullLayout;
      if (!full || !full.xaxis) return;
      if (this.svg.parentNode !== this.gd) this.gd.appendChild(this.svg);
      this.svg.setAttribute("width", full.width);
      this.svg.setAttribute("height", full.height);
      this.xa = full.xaxis;
      this.ya = full.yaxis;
      if (this.last) this.place(this.last[0], this.last[1], this.last[2]);
    }

    place(x, y, lineX) {
      this.last = [x, y, lineX];
      if (!this.xa) return;
      const xa = this.xa;
      const ya = this.ya;
      if (this.line) {
        const px = xa._offset + xa.l2p(lineX === undefined ? x : lineX);
        this.line.setAttribute("x1", px);
        this.line.setAttribute("x2", px);
        this.line.setAttribute("y1", ya._offset);
        this.line.setAttribute("y2", ya._offset + ya._length);
      }
      if (this.dot) {
        const shown = y !== null && Number.isFinite(y);
        this.dot.setAttribute("visibility", shown ? "visible" : "hidden");
        if (shown) {
          this.dot.setAttribute("cx", xa._offset + xa.l2p(x));
          this.dot.setAttribute("cy", ya._offset + ya.l2p(y));
        }
      }
    }
  }

  function axis(title, extra) {
    return Object.assign({ title: { text: title }, automargin: true, gridcolor: "#eaeded" }, extra || {});
  }

  // --- The explorer --------------------------------------------------------------------------

  class Explorer {
    constructor(data) {
      this.data = data;
      this.grid = buildGrid(data.counts);
      this.threshold = data.threshold;
      this.urlTimer = null;
      this.charts = {};
      this.costs = null;
      this.costValues = null;
      this.el = {
        slider: document.getElementById("threshold-slider"),
        number: document.getElementById("threshold-number"),
        heading: document.getElementById("at-threshold-heading"),
        sentence: document.getElementById("m-sentence"),
        percent: document.getElementById("m-percent"),
        save: document.getElementById("save-threshold"),
        saveValue: document.getElementById("save-value"),
        unsaved: document.getElementById("unsaved-note"),
        counts: {},
        metrics: {},
      };
      for (const name of ["tp", "fn", "fp", "tn"]) {
        const cell = document.getElementById(`m-${name}`);
        this.el.counts[name] = cell ? cell.querySelector("strong") : null;
      }
      document.querySelectorAll("dt[data-metric]").forEach((dt) => {
        this.el.metrics[dt.dataset.metric] = dt.nextElementSibling;
      });
    }

    start() {
      document.getElementById("explorer-tools").hidden = false;
      document.getElementById("explorer-charts").hidden = false;
      this.wireControls();
      if (typeof Plotly !== "undefined") this.drawCharts();
      this.readCosts();
      this.setThreshold(this.threshold, { url: false });
    }

    // Everything at a new cut-off, synchronously: numbers, then only the overlays move.
    setThreshold(value, options) {
      const t = Math.min(1, Math.max(0, Math.round(Number(value) * 1000) / 1000));
      if (!Number.isFinite(t)) return null;
      this.threshold = t;
      const m = metricsAt(this.grid, t);
      this.showNumbers(m, options && options.source);
      this.moveCharts(m);
      if (!options || options.url !== false) this.scheduleUrl();
      return m;
    }

    showNumbers(m, source) {
      const el = this.el;
      const t = this.threshold;
      if (source !== el.slider) el.slider.value = t.toFixed(3);
      if (source !== el.number) el.number.value = t.toFixed(3);
      el.heading.textContent = `At the score threshold of ${significant3(t)}`;
      el.save.textContent = `Save score threshold at ${label(t)}`;
      el.saveValue.value = t.toFixed(3);
      if (el.unsaved) el.unsaved.hidden = Math.abs(t - this.data.saved) < 1e-9;
      el.sentence.textContent = sentence(m);
      el.percent.textContent = `${m.percent_predicted_positive.toFixed(1)}% of the records are predicted "1", ${m.percent_predicted_negative.toFixed(1)}% "0".`;
      for (const name of ["tp", "fn", "fp", "tn"]) if (el.counts[name]) el.counts[name].textContent = integer.format(m[name]);
      for (const [name, dd] of Object.entries(el.metrics)) {
        const rule = UNDEFINED[name];
        if (rule && m[rule[0]] + m[rule[1]] === 0) {
          dd.innerHTML = `<span class="muted" title="${rule[2]}">${rule[3]}</span>`;
        } else {
          dd.textContent = m[name].toFixed(3);
        }
      }
    }

    moveCharts(m) {
      const c = this.charts;
      const t = this.threshold;
      if (c.scores) c.scores.place(t, null);
      if (c.roc) c.roc.place(m.false_positive_rate, m.recall);
      if (c.pr) c.pr.place(m.recall, m.tp + m.fp ? m.precision : null);
      if (c.gains) c.gains.place(m.percent_predicted_positive, 100 * m.recall);
      if (c.cost && this.costValues) c.cost.place(t, this.costValues[binOf(this.grid, t)]);
    }

    scheduleUrl() {
      clearTimeout(this.urlTimer);
      this.urlTimer = setTimeout(() => {
        const url = new URL(window.location.href);
        url.searchParams.set("threshold", label(this.threshold));
        window.history.replaceState(null, "", url);
      }, URL_DELAY_MS);
    }

    wireControls() {
      const el = this.el;
      el.slider.addEventListener("input", () => this.setThreshold(el.slider.value, { source: el.slider }));
      const inRange = (text, high) => text.trim() !== "" && Number(text) >= 0 && Number(text) <= high;
      const problem = document.getElementById("threshold-problem");
      const say = (text) => {
        problem.textContent = text;
        problem.hidden = !text;
      };
      el.number.addEventListener("input", () => {
        if (!inRange(el.number.value, 1)) return say("Give a cut-off between 0 and 1.");
        say("");
        this.setThreshold(Number(el.number.value), { source: el.number });
      });
      document.getElementById("threshold-form").addEventListener("submit", (event) => {
        event.preventDefault();
        if (!inRange(el.number.value, 1)) return say("Give a cut-off between 0 and 1.");
        say("");
        this.setThreshold(Number(el.number.value));
      });
      el.slider.addEventListener("input", () => say(""));
      document.getElementById("top-apply").addEventListener("click", () => {
        const text = document.getElementById("top-percent").value;
        if (!inRange(text, 100)) return say("Give a share of records between 0 and 100 %.");
        say("");
        this.setThreshold(topPercentThreshold(this.grid, Number(text)));
      });
      document.getElementById("goal-find").addEventListener("click", () => this.findGoal());
      for (const id of ["cost-fp", "cost-fn", "gain-tp", "gain-tn"]) {
        document.getElementById(id).addEventListener("input", () => this.readCosts());
      }
      document.getElementById("cost-use").addEventListener("click", () => {
        if (this.costBest !== undefined) this.setThreshold(this.costBest);
      });
    }

    findGoal() {
      const metric = document.getElementById("goal-metric").value;
      const target = Number(document.getElementById("goal-value").value);
      const out = document.getElementById("goal-result");
      const name = { precision: "precision", recall: "recall", false_positive_rate: "false positive rate" };
      const sign = GOALS[metric].atLeast ? "≥" : "≤";
      const found = Number.isFinite(target) ? findCutoff(this.grid, metric, target) : null;
      if (!found) {
        out.className = "small none";
        out.textContent = `No cut-off reaches ${name[metric]} ${sign} ${target}.`;
        return;
      }
      this.setThreshold(found.threshold);
      out.className = "small";
      out.textContent = `Cut-off ${label(found.threshold)}: ${name[metric]} ${sign} ${target} with the largest ${name[found.optimised]}.`;
    }

    readCosts() {
      const read = (id) => {
        const v = Number(document.getElementById(id).value);
        return Number.isFinite(v) ? v : 0;
      };
      this.costs = { fp: read("cost-fp"), fn: read("cost-fn"), tp: read("gain-tp"), tn: read("gain-tn") };
      this.costValues = costCurve(this.grid, this.costs);
      const best = argmin(this.costValues);
      this.costBest = best / this.grid.bins;
      const value = this.costValues[best];
      const profit = value < 0;
      document.getElementById("cost-best").textContent =
        `Best cut-off: ${label(this.costBest)}, expected ${profit ? "profit" : "cost"} ${Math.abs(value).toFixed(4)} per record.`;
      if (this.costEl && typeof Plotly !== "undefined") this.drawCost();
    }

    // --- drawing (once, or when the costs change) ---

    drawCharts() {
      const t = this.threshold;
      const scores = readJson("fig-scores");
      const scoresEl = document.getElementById("explorer-scores");
      if (scores && scoresEl) {
        scores.layout.shapes = [];
        Plotly.newPlot(scoresEl, scores.data, scores.layout, CONFIG);
        this.charts.scores = new Overlay(scoresEl, { line: true });
      }
      const roc = readJson("fig-roc");
      const rocEl = document.getElementById("explorer-roc");
      if (roc && rocEl) {
        // The server's marker trace becomes a shape that moves without a redraw of the curve.
        const traces = roc.data.filter((trace) => trace.mode !== "markers");
        Plotly.newPlot(rocEl, traces, roc.layout, CONFIG);
        this.charts.roc = new Overlay(rocEl, { dot: ORANGE });
      }
      this.drawPr();
      this.costEl = document.getElementById("explorer-cost");
      this.drawCalibration();
      this.drawGains();
    }

    drawPr() {
      const pr = this.data.pr;
      const el = document.getElementById("explorer-pr");
      const base = this.grid.total ? this.grid.nPos / this.grid.total : 0;
      const traces = [
        { type: "scatter", mode: "lines", name: "Model", x: pr.recall, y: pr.precision, customdata: pr.thresholds, line: { color: BLUE },
          hovertemplate: "recall %{x:.3f}, precision %{y:.3f}<br>cut-off %{customdata:.3f}<extra></extra>" },
        { type: "scatter", mode: "lines", name: `Share of 1s (${base.toFixed(3)})`, x: [0, 1], y: [base, base], line: { color: GREY, dash: "dot" }, hoverinfo: "skip" },
      ];
      const layout = baseLayout({ xaxis: axis("Recall", { range: [0, 1] }), yaxis: axis("Precision", { range: [0, 1.02] }) });
      Plotly.newPlot(el, traces, layout, CONFIG);
      this.charts.pr = new Overlay(el, { dot: ORANGE });
    }

    drawCost() {
      const el = this.costEl;
      const x = Array.from({ length: this.grid.bins + 1 }, (_, k) => k / this.grid.bins);
      const best = this.costBest;
      const traces = [
        { type: "scatter", mode: "lines", name: "Expected cost per record", x, y: Array.from(this.costValues), line: { color: BLUE },
          hovertemplate: "cut-off %{x:.3f}: %{y:.4f} per record<extra></extra>" },
        { type: "scatter", mode: "markers", name: `Best: ${label(best)}`, x: [best], y: [this.costValues[Math.round(best * this.grid.bins)]], marker: { color: "#1d8102", size: 11, symbol: "star" } },
      ];
      const layout = baseLayout({
        xaxis: axis("Cut-off", { range: [0, 1] }),
        yaxis: axis("Expected cost per record (negative: profit)"),
      });
      Plotly.react(el, traces, layout, CONFIG);
      if (!this.charts.cost) this.charts.cost = new Overlay(el, { line: true, dot: ORANGE });
      this.charts.cost.place(this.threshold, this.costValues[binOf(this.grid, this.threshold)]);
    }

    drawCalibration() {
      const c = this.data.calibration;
      const el = document.getElementById("explorer-calibration");
      const x = [];
      const y = [];
      const n = [];
      c.predicted.forEach((p, i) => {
        if (p !== null) {
          x.push(p);
          y.push(c.observed[i]);
          n.push(c.records[i]);
        }
      });
      const traces = [
        { type: "scatter", mode: "lines+markers", name: "Model", x, y, customdata: n, line: { color: BLUE },
          hovertemplate: "mean score %{x:.3f}: %{y:.3f} are 1 (%{customdata:,} records)<extra></extra>" },
        { type: "scatter", mode: "lines", name: "Perfectly calibrated", x: [0, 1], y: [0, 1], line: { color: GREY, dash: "dot" }, hoverinfo: "skip" },
      ];
      const layout = baseLayout({ xaxis: axis("Mean score in the bin", { range: [0, 1] }), yaxis: axis("Share of actual 1s", { range: [0, 1.02] }) });
      Plotly.newPlot(el, traces, layout, CONFIG);
    }

    drawGains() {
      const g = this.data.gains;
      const el = document.getElementById("explorer-gains");
      const traces = [
        { type: "scatter", mode: "lines", name: "Share of actual 1s found (%)", x: g.percent_records, y: g.percent_positives, line: { color: BLUE },
          hovertemplate: "top %{x:.1f}%: %{y:.1f}% of the 1s<extra></extra>" },
        { type: "scatter", mode: "lines", name: "Random", x: [0, 100], y: [0, 100], line: { color: GREY, dash: "dot" }, hoverinfo: "skip" },
        { type: "scatter", mode: "lines", name: "Lift", x: g.percent_records, y: g.lift, yaxis: "y2", line: { color: ORANGE },
          hovertemplate: "top %{x:.1f}%: lift %{y:.2f}<extra></extra>" },
      ];
      const layout = baseLayout({
        margin: { l: 60, r: 60, t: 60, b: 60 },
        xaxis: axis("Records predicted 1, highest scores first (%)", { range: [0, 100] }),
        yaxis: axis("Actual 1s among them (% of all 1s)", { range: [0, 102] }),
        yaxis2: { title: { text: "Lift" }, overlaying: "y", side: "right", automargin: true, rangemode: "tozero", showgrid: false },
      });
      Plotly.newPlot(el, traces, layout, CONFIG);
      this.charts.gains = new Overlay(el, { line: true, thin: true, dot: INK });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const data = readJson("explorer-data");
    if (!data || !data.counts) return;
    const explorer = new Explorer(data);
    explorer.start();
    // For the browser tests and the benchmark: the same entry points the controls use.
    window.thresholdExplorer = {
      setThreshold: (t) => explorer.setThreshold(t),
      metricsAt: (t) => metricsAt(explorer.grid, t),
      threshold: () => explorer.threshold,
    };
  });
})();
