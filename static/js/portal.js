// Portail's own small script. Every screen works without it; it only adds the inactivity
// warning (shared PCs) and keeps focus sensible after htmx swaps.
(function () {
  "use strict";

  function setUpIdleWarning() {
    var body = document.body;
    var total = parseInt(body.dataset.idleSeconds || "", 10);
    if (!total) { return; }
    var warnBefore = parseInt(body.dataset.idleWarningSeconds || "120", 10);
    var logoutUrl = body.dataset.idleLogoutUrl;
    var panel = document.getElementById("idle-warning");
    var warnTimer = null;
    var endTimer = null;

    function schedule() {
      window.clearTimeout(warnTimer);
      window.clearTimeout(endTimer);
      if (panel) { panel.hidden = true; }
      warnTimer = window.setTimeout(function () {
        if (!panel) { return; }
        panel.hidden = false;
        panel.setAttribute("role", "alert");
        var button = panel.querySelector("button");
        if (button) { button.focus(); }
      }, Math.max(total - warnBefore, 1) * 1000);
      endTimer = window.setTimeout(function () {
        window.location.assign(logoutUrl);
      }, total * 1000);
    }

    // Any exchange with the server counts as activity and restarts the countdown.
    document.body.addEventListener("htmx:afterRequest", schedule);
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpIdleWarning);
  } else {
    setUpIdleWarning();
  }
})();
