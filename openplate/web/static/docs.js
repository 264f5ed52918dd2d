// /docs: Swagger UI, from the assets this server bundles (no CDN). Deep links stay off: they
// put a link inside each operation's expand button, which screen readers cannot use.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});

// Swagger UI leaves two things axe-core refuses: a parameter's enum <select> has no name (it
// gets the parameter's, from its row), and a response example that scrolls cannot be reached
// from the keyboard (it becomes focusable). Done again whenever Swagger UI draws more.
(function () {
  "use strict";
  function mend(root) {
    root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach(function (s) {
      s.setAttribute("aria-label", s.closest("tr").getAttribute("data-param-name"));
    });
    root.querySelectorAll(".highlight-code > .microlight:not([tabindex])").forEach(function (c) {
      c.setAttribute("tabindex", "0");
    });
  }
  var target = document.getElementById("swagger-ui");
  if (!target) { return; }
  new MutationObserver(function () { mend(target); }).observe(target, { childList: true, subtree: true });
  mend(target);
})();
