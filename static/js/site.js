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

  // "Copy citation" buttons: shown only when the clipboard can be used. Their messages come
  // in the page's language from data-copied and data-copy-failed.
  function setUpCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard || button.dataset.ready) return;
      button.dataset.ready = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.querySelector(button.dataset.copy);
        var status = button.parentElement.querySelector(".copy-status");
        navigator.clipboard.writeText(field.value.trim()).then(
          function () { if (status) status.textContent = button.dataset.copied || "Copied."; },
          function () {
            field.select();
            if (status) status.textContent = button.dataset.copyFailed || "Press Ctrl+C to copy.";
          }
        );
      });
    });
  }
  // Timeline events loaded by "Load earlier events" bring their own buttons.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (root && root.querySelectorAll) setUpCopyButtons(root);
  });

  // Folding panels (<details data-collapse-below="40rem">, sent open): folded on screens
  // narrower than that until their summary is pressed, open on wider ones.
  function setUpFoldingPanels() {
    document.querySelectorAll("details[data-collapse-below]").forEach(function (panel) {
      var narrow = window.matchMedia("(max-width: " + panel.dataset.collapseBelow + ")");
      function fit() { panel.open = !narrow.matches; }
      fit();
      narrow.addEventListener("change", fit);
    });
  }

  // The folded filters' "Filters (2)": new results carry the new wording.
  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail.target.querySelector("[data-filter-summary]");
    var summary = document.getElementById("filter-summary");
    if (source && summary) summary.textContent = source.dataset.filterSummary;
  });

  // The language switch names this page in the other language with its filters: when
  // htmx changes the address (new filters, another page of results), its links follow.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    document.querySelectorAll(".language-switch a[hreflang]").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      url.search = window.location.search;
      link.href = url.pathname + url.search;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons(document);
    setUpFoldingPanels();
  });
})();
