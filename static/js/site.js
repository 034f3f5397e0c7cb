// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Filter forms: leave empty fields out of the URL htmx requests and pushes, so a
  // shared link reads ?status=stalled rather than ?q=&status=stalled&actor=...
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (name) {
      if (params[name] === "") delete params[name];
    });
  });

  // "Copy citation" buttons: shown only when the clipboard can be used.
  function setUpCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard || button.dataset.ready) return;
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.querySelector(button.dataset.copy);
        var status = button.parentElement.querySelector(".copy-status");
        navigator.clipboard.writeText(field.value.trim()).then(
          function () { if (status) status.textContent = "Copied."; },
          function () { field.select(); if (status) status.textContent = "Press Ctrl+C to copy."; }
        );
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUpCopyButtons(document); });
  // Timeline events loaded by "Load earlier events" bring their own buttons.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (root && root.querySelectorAll) setUpCopyButtons(root);
  });
})();
