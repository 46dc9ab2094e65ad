// The API keys page: "Copy" buttons next to a new key's ID and secret (shown once).
"use strict";
document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
  });
});
