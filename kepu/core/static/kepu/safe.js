/* Kepu's one escaping helper and the small behaviours templates need without inline
   script (the Content-Security-Policy allows scripts from our static files only).

   Kepu.esc(s): escape any value for HTML (innerHTML, ECharts tooltip/formatter strings
   that are rendered as HTML). Every user text that is put into markup by JS goes
   through it.

   <form data-confirm="…">: ask before submitting (replaces onsubmit="return confirm(…)"). */
(function () {
  "use strict";
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

  function esc(value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"'`]/g, function (c) { return ENTITIES[c]; });
  }

  var Kepu = window.Kepu || {};
  Kepu.esc = esc;
  window.Kepu = Kepu;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.getAttribute) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
