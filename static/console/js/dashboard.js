// The dashboard's table is swapped whole by htmx (filters, sort, pager, and the poll that brings
// new objects). What the user did in the old table must survive the swap: the checked boxes and
// the rows opened with the expander. A poll still in flight when the user asks for another listing
// is dropped, or its older answer would put back the filters the user just changed.
"use strict";
(() => {
  const table = () => document.getElementById("object-table");
  const boxes = () => [...document.querySelectorAll("#object-table input[name=ids]")];
  let checked = [];
  let opened = [];

  async function open(button, expanded) {
    const row = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", String(expanded));
    button.textContent = expanded ? "▾" : "▸";
    row.hidden = !expanded;
    const holder = row.querySelector(".facts");
    if (!expanded || holder.dataset.loaded) return;
    holder.textContent = "Loading…";
    try {
      const response = await fetch(button.dataset.factsUrl, { headers: { "HX-Request": "true" } });
      holder.innerHTML = response.ok ? await response.text() : "This object is no longer available.";
      holder.dataset.loaded = "1";
    } catch (_) {
      holder.textContent = "The details could not be loaded. Try again.";
    }
  }

  function keyOf(button) {
    return button.closest("tr").dataset.key;
  }

  document.addEventListener("click", (e) => {
    const button = e.target.closest("#object-table button.expander");
    if (button) open(button, button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("change", (e) => {
    if (e.target.id === "select-all") boxes().forEach((b) => { b.checked = e.target.checked; });
  });
  document.addEventListener("htmx:beforeRequest", (e) => {
    const current = table();
    if (current && e.detail.elt !== current) htmx.trigger(current, "htmx:abort");
  });
  document.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.target.id !== "object-table") return;
    checked = boxes().filter((b) => b.checked).map((b) => b.value);
    opened = [...document.querySelectorAll("#object-table button.expander[aria-expanded=true]")].map(keyOf);
  });
  document.addEventListener("htmx:afterSwap", () => {
    boxes().forEach((b) => { b.checked = checked.includes(b.value); });
    document.querySelectorAll("#object-table button.expander").forEach((b) => {
      if (opened.includes(keyOf(b))) open(b, true);
    });
  });
})();
