/* Moderation queue: keyboard first (j/k a r d b n x ?) and live counts by short polling.
   Everything here has a plain-form fallback; the script only moves focus and submits forms. */
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
  var current = 0;
  var awaitingReason = null;
  var MODIFIER_KEYS = ["Shift", "Control", "Alt", "AltGraph", "Meta", "CapsLock", "NumLock"];

  function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (el, i) { el.classList.toggle("is-current", i === current); });
    items[current].focus({ preventScroll: true });
    items[current].scrollIntoView({ block: "nearest" });
  }

  function submitKey(key) {
    var item = items[current];
    if (!item) return false;
    var control = item.querySelector('[data-key="' + key + '"]');
    if (!control) return false;
    if (control.tagName === "SUMMARY") {
      control.parentElement.open = true;
      var field = control.parentElement.querySelector("select, textarea, input:not([type=hidden])");
      if (field) field.focus();
      return true;
    }
    control.form.requestSubmit ? control.form.requestSubmit(control) : control.form.submit();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key;
    if (awaitingReason) {
      // Belgian AZERTY types the top-row digits with Shift: that keydown must not end the
      // prompt, and the unshifted key (é, ", ' …) still counts by its position.
      if (MODIFIER_KEYS.indexOf(key) >= 0) return;
      var position = /^(?:Digit|Numpad)([0-9])$/.exec(event.code || "");
      var n = position ? parseInt(position[1], 10) : parseInt(key, 10);
      var form = awaitingReason;
      awaitingReason = null;
      document.body.classList.remove("awaiting-reason");
      if (n >= 1 && n <= form.reason.options.length) {
        form.reason.selectedIndex = n - 1;
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
      event.preventDefault();
      return;
    }
    if (key === "j") { select(current + 1); }
    else if (key === "k") { select(current - 1); }
    else if (key === "a" || key === "d" || key === "b" || key === "n") { if (!submitKey(key)) return; }
    else if (key === "r") {
      var rejectForm = items[current] && items[current].querySelector(".reject-form");
      if (!rejectForm) return;
      awaitingReason = rejectForm;
      document.body.classList.add("awaiting-reason");
      rejectForm.reason.focus();
      rejectForm.reason.blur();
    }
    else if (key === "x") {
      var box = items[current] && items[current].querySelector(".select-box");
      if (box) box.checked = !box.checked;
    }
    else if (key === "?") {
      var help = document.getElementById("help");
      if (help && help.showModal) help.showModal();
    }
    else { return; }
    event.preventDefault();
  });

  select(0);

  // Live counts: a small JSON endpoint polled every few seconds (no worker is pinned).
  var script = document.currentScript || document.querySelector("script[data-counts-url]");
  var url = script && script.getAttribute("data-counts-url");
  function refresh() {
    if (!url || document.hidden) return;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Object.keys(data.tabs).forEach(function (tab) {
          var el = document.querySelector('[data-count-for="' + tab + '"]');
          if (el) el.textContent = data.tabs[tab];
        });
        var oldest = document.getElementById("oldest");
        if (oldest) {
          oldest.textContent = data.oldest_waiting_seconds == null ? "" :
            "oudste wacht " + Math.floor(data.oldest_waiting_seconds / 60) + " min";
        }
      })
      .catch(function () { /* next tick tries again */ });
  }
  setInterval(refresh, 5000);
})();
