// The dashboard's "Compare evaluations": opens /evaluations/compare/?ids=... with the selected
// evaluations (up to 6; the page itself refuses mixed model types, and with one selected offers
// the others of its type to pick from), or says what to select.
"use strict";
(() => {
  const MIN = 2, MAX = 6;

  function selected() {
    return [...document.querySelectorAll("#object-table input[name=ids]:checked")].map((box) => box.value);
  }

  function say(text) {
    const note = document.getElementById("compare-message");
    note.textContent = text;
    note.hidden = !text;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("compare-selected");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      const values = selected();
      const evaluations = values.filter((v) => v.startsWith("evaluation:")).map((v) => v.slice("evaluation:".length));
      if (evaluations.length !== values.length) {
        say("Only evaluations can be compared: unselect the other objects.");
      } else if (evaluations.length === 0 || evaluations.length > MAX) {
        say(`Select ${MIN} to ${MAX} evaluations to compare (${evaluations.length} selected).`);
      } else {
        // one evaluation opens the page's picker of the others of its model type
        say("");
        window.location.assign(`${button.dataset.url}?ids=${evaluations.map(encodeURIComponent).join(",")}`);
      }
    });
  });
})();
