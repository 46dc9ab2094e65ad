// Small helpers shared by every page. Pages add their own scripts in {% block scripts %}.
"use strict";
window.amlConsole = {
  csrfToken() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  },
};
