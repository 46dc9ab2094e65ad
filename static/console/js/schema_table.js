// Client-side paging and filtering of the wizard's attribute tables (mnist has 785 rows),
// bulk type changes on the Schema step, and the yes/no panels of the Target and Row ID steps.
"use strict";
(() => {
  function pagedTable(table) {
    const scope = table.closest("section, form") || document;
    const size = Number(table.dataset.pageSize) || 25;
    const rows = Array.from(table.tBodies[0].rows);
    const filter = scope.querySelector("[data-table-filter]");
    const info = scope.querySelector("[data-pager-info]");
    const label = scope.querySelector("[data-page-label]");
    const prev = scope.querySelector('[data-page="prev"]');
    const next = scope.querySelector('[data-page="next"]');
    let matching = rows;
    let page = 0;
    const listeners = [];

    function render() {
      const pages = Math.max(1, Math.ceil(matching.length / size));
      page = Math.min(Math.max(page, 0), pages - 1);
      const shown = new Set(matching.slice(page * size, (page + 1) * size));
      rows.forEach((row) => row.classList.toggle("hidden-row", !shown.has(row)));
      if (info) info.textContent = matching.length === rows.length
        ? `${rows.length} attributes` : `${matching.length} of ${rows.length} attributes match`;
      if (label) label.textContent = `Page ${page + 1} of ${pages}`;
      if (prev) prev.disabled = page === 0;
      if (next) next.disabled = page >= pages - 1;
      listeners.forEach((listener) => listener());
    }
    if (filter) filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      matching = rows.filter((row) => row.dataset.name.includes(wanted));
      page = 0;
      render();
    });
    if (prev) prev.addEventListener("click", () => { page -= 1; render(); });
    if (next) next.addEventListener("click", () => { page += 1; render(); });
    // Open on the page holding the preselected choice (a suggested target may be far down).
    const checked = table.querySelector("tbody input[type=radio]:checked");
    if (checked) page = Math.floor(rows.indexOf(checked.closest("tr")) / size);
    render();
    return {
      rows,
      matching: () => matching,
      visible: () => rows.filter((row) => !row.classList.contains("hidden-row")),
      onRender: (listener) => { listeners.push(listener); listener(); },
    };
  }

  function schemaForm(form, table) {
    const selectPage = form.querySelector("[data-select-page]");
    const box = (row) => row.querySelector("[data-select]");
    const selected = () => table.rows.filter((row) => box(row).checked);
    const excludeBox = (row) => row.querySelector('input[type=checkbox][name^="exclude-"]');
    const selectMatching = form.querySelector("[data-select-matching]");
    const count = form.querySelector("[data-selected-count]");
    // A wide file (mnist: 784 pixels) is changed in one go: select what the filter matches,
    // on every page, not only the 25 rows shown.
    function update() {
      const n = selected().length;
      if (count) count.textContent = `${n.toLocaleString()} selected`;
      if (selectMatching) selectMatching.textContent = `Select all ${table.matching().length.toLocaleString()} matching`;
      const visible = table.visible();
      selectPage.checked = visible.length > 0 && visible.every((row) => box(row).checked);
    }
    selectPage.addEventListener("change", () => {
      table.visible().forEach((row) => { box(row).checked = selectPage.checked; });
      update();
    });
    if (selectMatching) selectMatching.addEventListener("click", () => {
      table.matching().forEach((row) => { box(row).checked = true; });
      update();
    });
    const selectNone = form.querySelector("[data-select-none]");
    if (selectNone) selectNone.addEventListener("click", () => {
      table.rows.forEach((row) => { box(row).checked = false; });
      update();
    });
    table.rows.forEach((row) => box(row).addEventListener("change", update));
    table.onRender(update);
    // Warn, per attribute, when its sampled values do not fit the type now chosen.
    const summary = form.querySelector("[data-misfit-summary]");
    function warn(row) {
      const messages = JSON.parse(row.dataset.misfits || "{}");
      const warning = row.querySelector("[data-type-warning]");
      const message = messages[row.querySelector("select").value] || "";
      warning.textContent = message;
      warning.hidden = !message;
    }
    function summarise() {
      if (!summary) return;
      const names = table.rows.filter((row) => !row.querySelector("[data-type-warning]").hidden)
        .map((row) => row.querySelector("td.name").textContent);
      summary.querySelector("[data-misfit-names]").textContent = names.join(", ");
      summary.hidden = names.length === 0;
    }
    table.rows.forEach((row) => row.querySelector("select").addEventListener("change", () => {
      warn(row);
      summarise();
    }));
    form.querySelector("[data-bulk-apply]").addEventListener("click", () => {
      const type = form.querySelector("[data-bulk-type]").value;
      selected().forEach((row) => { row.querySelector("select").value = type; warn(row); });
      summarise();
    });
    form.querySelector("[data-bulk-exclude]").addEventListener("click", () => {
      selected().forEach((row) => { excludeBox(row).checked = true; row.classList.add("excluded"); });
    });
    table.rows.forEach((row) => excludeBox(row).addEventListener("change", (event) => {
      row.classList.toggle("excluded", event.target.checked);
    }));
    // Django accepts at most 1,000 fields per request: send a wide table as one JSON field.
    form.addEventListener("submit", () => {
      if (table.rows.length < 300) return;
      const types = table.rows.map((row) => row.querySelector("select").value);
      const excluded = [];
      table.rows.forEach((row, index) => { if (excludeBox(row).checked) excluded.push(index); });
      table.rows.forEach((row) => row.querySelectorAll("[name]").forEach((el) => el.removeAttribute("name")));
      const packed = document.createElement("input");
      packed.type = "hidden";
      packed.name = "packed";
      packed.value = JSON.stringify({ types, excluded });
      form.appendChild(packed);
    });
  }

  function yesNoPanel(list) {
    const panel = document.getElementById(list.dataset.togglePanel);
    const update = () => {
      const chosen = list.querySelector("input:checked");
      panel.hidden = !chosen || chosen.value !== panel.dataset.shownWhen;
    };
    list.querySelectorAll("input").forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  function impliedModelType(form) {
    const line = form.querySelector("[data-implied]");
    if (!line) return;
    const update = () => {
      const chosen = form.querySelector('input[name="target"]:checked');
      line.hidden = !chosen;
      if (chosen) line.querySelector("[data-implied-label]").textContent = chosen.dataset.modelType;
    };
    form.querySelectorAll('input[name="target"]').forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  document.querySelectorAll("table[data-paged-table]").forEach((element) => {
    const table = pagedTable(element);
    const form = element.closest("form[data-schema-form]");
    if (form) schemaForm(form, table);
  });
  document.querySelectorAll("[data-toggle-panel]").forEach(yesNoPanel);
  document.querySelectorAll("form[data-choice-form]").forEach(impliedModelType);
})();
