// Portail's own small script. Every screen works without it; it only adds the inactivity
// warning (shared PCs) and, on the check-in screen, keeps the scan field ready.
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

    // Any exchange with the server counts as activity and restarts the countdown, except the
    // requests a screen makes on its own (the check-in roster's polling).
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var elt = event.detail && event.detail.elt;
      if (elt && elt.hasAttribute && elt.hasAttribute("data-poll")) { return; }
      schedule();
    });
    schedule();
  }

  // The check-in screen: the scan field is always ready. A USB scanner types the code and
  // Enter; when the focus is on the page itself (nothing, or something that is not a control),
  // letters and digits go to the scan field. Keys typed on a link, a button or a field are
  // theirs. After each answer the focus goes where the next step is, and a person opened from
  // the roster has their panel brought into view with the focus on it.
  function setUpCheckIn() {
    var screen = document.getElementById("checkin");
    var field = document.getElementById("scan-code");
    if (!screen) { return; }

    var CONTROLS = "a[href], button, input, select, textarea, summary, [contenteditable], " +
      "[role=button], [role=link], [role=checkbox], [role=menuitem], [role=tab]";

    function isControl(elt) {
      return !!(elt && elt !== document.body && elt !== document.documentElement &&
        (elt.isContentEditable || (elt.matches && elt.matches(CONTROLS))));
    }

    if (field) {
      document.addEventListener("keydown", function (event) {
        if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
        if (event.key.length !== 1 || event.key === " " || isControl(document.activeElement)) {
          return;
        }
        event.preventDefault();
        field.focus();
        field.value += event.key;
      });
    }

    // The panel of a person opened from the roster (it sits above the roster): in view, and
    // the focus on its heading so that a screen reader reads who it is.
    function showPanel() {
      var panel = document.querySelector("#scan-actions .panel");
      var heading = document.getElementById("panel-title");
      if (!panel || !heading) { return; }
      panel.scrollIntoView({block: "start"});
      heading.focus({preventScroll: true});
    }

    function focusAfterAnswer() {
      var result = document.querySelector("#scan-result .result");
      var wanted = result ? result.getAttribute("data-focus") : "scan";
      var targets = {
        "walk-in": "walk-in-button",
        "extra-seat": "extra-seat-button",
        "matches": "match-button",
        "cheques": "cheque-numbers",
        "receipt": "receipt-link"
      };
      var target = document.getElementById(targets[wanted] || wanted || "scan-code");
      if (target || field) { (target || field).focus(); }
    }

    // Every check-in action answers into #scan-result (the roster and the panel come out of
    // band); polling and the search only replace the roster.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var target = event.detail.target;
      if (target && target.id === "scan-result") {
        window.setTimeout(focusAfterAnswer, 0);
      } else if (target && target.id === "scan-actions") {
        window.setTimeout(showPanel, 0);
      }
    });

    // Emptied as soon as the scan is sent (its value is already taken), so that a next scan
    // typed at once is not lost.
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (field && event.detail.elt && event.detail.elt.hasAttribute("data-scan-form")) {
        field.value = "";
      }
    });
  }

  function start() {
    setUpIdleWarning();
    setUpCheckIn();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
