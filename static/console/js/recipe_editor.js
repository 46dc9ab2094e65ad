// The ML model wizard's browser side: the recipe editor (checked as you type against the
// server's parser, which knows the datasource's schema), "Reset to suggested recipe", and the
// panels each radio group shows or hides. Every step also works without JavaScript: the server
// validates again on Continue.
"use strict";
(() => {
  const DEBOUNCE_MS = 400;

  function csrfToken(form) {
    const field = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function recipeEditor(form) {
    const text = form.querySelector("textarea[name=recipe]");
    const status = form.querySelector("#recipe-status");
    const reset = form.querySelector("[data-recipe-reset]");
    const suggested = form.querySelector("template[data-suggested-recipe]");
    let timer = null;
    let latest = 0;

    function show(result) {
      status.classList.toggle("ok", result.ok);
      status.classList.toggle("bad", !result.ok);
      status.textContent = result.ok
        ? (text.value.trim() ? "The recipe is valid." : "Empty: training uses the suggested recipe.")
        : result.message;
    }

    async function validate() {
      const ticket = ++latest; // answers may come back out of order: keep only the newest
      const body = new URLSearchParams({ draft: form.dataset.draft, recipe: text.value });
      try {
        const response = await fetch(form.dataset.validateUrl, {
          method: "POST",
          body,
          headers: { "X-CSRFToken": csrfToken(form) },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const result = await response.json();
        if (ticket === latest) show(result);
      } catch (error) {
        if (ticket === latest) status.textContent = "Could not check the recipe now; it is checked again when you continue.";
      }
    }

    text.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(validate, DEBOUNCE_MS);
    });
    text.addEventListener("keydown", (event) => {
      if (event.key !== "Tab" || event.shiftKey) return; // Tab indents; Shift+Tab leaves
      event.preventDefault();
      text.setRangeText("  ", text.selectionStart, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    });
    if (reset && suggested) {
      reset.addEventListener("click", () => {
        text.value = suggested.content.textContent;
        validate();
      });
    }
    if (!status.textContent.trim()) validate();
  }

  // A radio group marked data-panels shows the elements of its form whose data-shown-for lists
  // the chosen value (space-separated) and hides the others.
  function panels(group) {
    const form = group.closest("form");
    const update = () => {
      const chosen = group.querySelector("input:checked");
      const value = chosen ? chosen.value : "";
      form.querySelectorAll("[data-shown-for]").forEach((element) => {
        const values = element.dataset.shownFor.split(" ");
        if (values.some((v) => group.querySelector(`input[value="${v}"]`))) {
          element.hidden = !values.includes(value);
        }
      });
    };
    group.querySelectorAll("input").forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  // Regularization: switching between L1 and L2 swaps the amount to the other's suggested value
  // unless the user typed their own.
  function regularization(group) {
    const amount = group.closest("form").querySelector("input[name=regularization_amount]");
    const suggested = { l1: "1e-8", l2: "1e-6" };
    group.querySelectorAll("input").forEach((radio) => radio.addEventListener("change", () => {
      const untouched = !amount.value.trim() || Object.values(suggested).includes(amount.value.trim());
      if (untouched && suggested[radio.value]) amount.value = suggested[radio.value];
    }));
  }

  document.querySelectorAll("form[data-recipe-editor]").forEach(recipeEditor);
  document.querySelectorAll("[data-panels]").forEach(panels);
  document.querySelectorAll("[data-regularization]").forEach(regularization);
})();
