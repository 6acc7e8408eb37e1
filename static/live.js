/* Tribune article page, live on match day: the poll stands and the thread refresh on their
 * own, without a reload. A conditional request (If-None-Match on the page's live ETag) goes
 * to ?live=1 after the server's Tribune-Refresh seconds (shorter while a poll is open, longer
 * under load: live/pacing.py); a 304 costs nothing to render. What changed goes in place:
 * the poll stands always (they hold no input); while a poll is open (Tribune-Live) the
 * thread's list, count and pager too, unless the reader is busy in it (a reply typed or open,
 * the focus in one of its fields). Then, and on a quiet day, the newer list waits behind a
 * "nieuwe reacties" button, and the typed replies are put back when it is pressed. The post form above the list is never replaced, so a half-typed comment
 * stays as it is. Without this script the page is the same, reloaded by hand. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.DOMParser) return;
  var url = script.getAttribute("data-live-url");
  var etag = script.getAttribute("data-etag");
  var nextMs = (parseInt(script.getAttribute("data-refresh"), 10) || 60) * 1000;
  var timer = null;
  var live = script.hasAttribute("data-live");  // a poll is open: news goes in on its own
  var waiting = null;  // a newer page whose thread waits for the reader
  var LIST = "section.comments > ol.thread";

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, nextMs);
  }

  function pace(response) {
    live = response.headers.get("Tribune-Live") === "1";
    var seconds = parseInt(response.headers.get("Tribune-Refresh"), 10);
    if (seconds > 0) nextMs = Math.min(seconds, 600) * 1000;
    schedule();
  }

  function busy() {
    var list = document.querySelector(LIST);
    if (!list) return false;
    var active = document.activeElement;
    if (active && list.contains(active) && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName)) return true;
    var fields = list.querySelectorAll("textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim()) return true;
    return Boolean(list.querySelector("details[open]"));
  }

  function count(doc) {
    var section = doc.querySelector("section.comments");
    return section ? parseInt(section.getAttribute("data-count"), 10) || 0 : 0;
  }

  // The element matching selector in the newer page takes the place of this page's (added
  // or taken away when only one of them has it: the pager).
  function replace(selector, next, after) {
    var old = document.querySelector(selector);
    var fresh = next.querySelector(selector);
    if (fresh) fresh = document.importNode(fresh, true);
    if (old && fresh) old.parentNode.replaceChild(fresh, old);
    else if (old) old.parentNode.removeChild(old);
    else if (fresh && after) after.parentNode.insertBefore(fresh, after.nextSibling);
  }

  function applyThread(next) {
    var drafts = [];
    var fields = document.querySelectorAll(LIST + " textarea");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value.trim() && fields[i].id) {
        drafts.push({ id: fields[i].id, value: fields[i].value, focused: document.activeElement === fields[i] });
      }
    }
    replace(LIST, next);
    replace("#reacties", next);
    replace("section.comments > nav.pager", next, document.querySelector(LIST));
    var section = document.querySelector("section.comments");
    if (section) section.setAttribute("data-count", String(count(next)));
    drafts.forEach(function (draft) {
      var field = document.getElementById(draft.id);
      if (!field) return;
      field.value = draft.value;
      var details = field.closest("details");
      if (details) details.open = true;
      if (draft.focused) field.focus();
    });
    offer(0);
    waiting = null;
  }

  // "2 nieuwe reacties" above the list while the reader is busy in it.
  function offer(added) {
    var box = document.getElementById("live-nieuw");
    if (added <= 0) {
      if (box) box.parentNode.removeChild(box);
      return;
    }
    var list = document.querySelector(LIST);
    if (!list) return;
    if (!box) {
      box = document.createElement("p");
      box.id = "live-nieuw";
      box.className = "live-new";
      box.setAttribute("role", "status");
      list.parentNode.insertBefore(box, list);
    }
    box.textContent = "";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = added === 1 ? "1 nieuwe reactie" : added + " nieuwe reacties";
    button.addEventListener("click", function () { if (waiting) applyThread(waiting); });
    box.appendChild(button);
  }

  function applyPolls(next) {
    var panels = next.querySelectorAll("section.poll[data-poll-id]");
    for (var i = 0; i < panels.length; i++) {
      var id = panels[i].getAttribute("data-poll-id");
      var old = document.getElementById("peiling-" + id);
      if (!old) continue;
      var form = old.querySelector("form");
      var typed = form && Array.prototype.some.call(form.querySelectorAll("input[type=number]"), function (input) { return input.value !== ""; });
      var choosing = form && (form.contains(document.activeElement) || form.querySelector("input:checked") || typed);
      if (old.getAttribute("data-state") !== panels[i].getAttribute("data-state") && !choosing) {
        old.parentNode.replaceChild(document.importNode(panels[i], true), old);
      } else {
        replace("#peiling-" + id + "-stand", next);
      }
    }
  }

  function check() {
    if (document.hidden) { schedule(); return; }
    var headers = {};
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (response) {
        pace(response);
        if (response.status === 304 && waiting && live && !busy()) applyThread(waiting);
        if (response.status !== 200) return;
        var tag = response.headers.get("ETag");
        return response.text().then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          if (!next.querySelector("section.comments")) return;
          applyPolls(next);
          etag = tag || etag;
          if (live && !busy()) { applyThread(next); return; }
          waiting = next;
          offer(count(next) - count(document));
        });
      })
      .catch(function () { schedule(); /* offline for a moment: the next check tries again */ });
  }

  schedule();
})();
