// Small helpers shared by every page. Pages add their own scripts in {% block scripts %}.
// The Content-Security-Policy allows no inline script, handler or style attribute, so what
// templates used to say inline they now say in data-* attributes that this file acts on.
"use strict";
window.amlConsole = {
  csrfToken() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  },
  // data-width="37" (a percentage: progress and score bars) and data-background="rgb(...)"
  // (matrix cells, colour swatches), set through the CSSOM, which the policy allows.
  applyDataStyles(root) {
    const scope = root.querySelectorAll ? root : document;
    const own = scope instanceof Element ? [scope] : [];
    own.concat(Array.from(scope.querySelectorAll("[data-width], [data-background]"))).forEach((el) => {
      if (el.dataset.width !== undefined) el.style.width = `${Number(el.dataset.width) || 0}%`;
      if (el.dataset.background !== undefined) el.style.background = el.dataset.background;
    });
  },
};

window.amlConsole.applyDataStyles(document);
// Content htmx (or a page's script) adds later: applied before the next paint, so a bar never
// shows at zero first.
new MutationObserver((mutations) => {
  mutations.forEach((mutation) => mutation.addedNodes.forEach((node) => {
    if (node.nodeType === Node.ELEMENT_NODE) window.amlConsole.applyDataStyles(node);
  }));
}).observe(document.body, { childList: true, subtree: true });

// <form data-confirm="Delete this …?">: asks before submitting (was an inline onsubmit).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
