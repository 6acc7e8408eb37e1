/*
 * Tribune counts.js: fills every [data-tribune-tally="ARTICLE_ID"] with its tallies.
 *   <span data-tribune-tally="defour-kvm"></span>
 *   <script src="https://TRIBUNE/static/counts.js" defer></script>
 * One GET /api/v1/tallies per 100 ids (sorted and deduplicated so caches share keys); headlines
 * added later are picked up; window.TribuneCounts.reload() refreshes all, .set(id, comments)
 * shows a new comment count (comments.js calls it after the reader's own post). Optional on the script
 * tag: data-api="https://…" (API base; default: this script's origin), data-tribune-new (show
 * "+N nieuw" since the reader's last visit). Per element: data-tribune-show="comments|votes";
 * counts the server rendered into the page (data-comments, data-votes) are revalidated, not
 * taken from the browser's cache, and the first fill never lowers them.
 */
(function () {
  "use strict";
  var ATTR = "data-tribune-tally";
  var CHUNK = 100;
  var STORE = "tribune-tallies";
  var script = document.currentScript;
  var base = (script && script.getAttribute("data-api")) ||
    (script && script.src ? new URL(script.src, location.href).origin : "");
  var showNew = !!(script && script.hasAttribute("data-tribune-new"));
  var baseline = showNew ? readSeen() : {};
  var timer = null;

  function plural(n, one, many, zero) {
    return n === 0 && zero ? zero : n + " " + (n === 1 ? one : many);
  }

  function tallyText(t, show) {
    var votes = plural(t.votes, "stem", "stemmen", "nog geen stemmen");
    if (show === "votes") return votes;
    var comments = plural(t.comments, "reactie", "reacties", "nog geen reacties");
    return show === "comments" || !t.votes ? comments : comments + " · " + votes;
  }

  function readSeen() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function writeSeen(data) {
    try {
      var seen = readSeen();
      Object.keys(data).forEach(function (id) {
        delete seen[id];  // re-insert: the most recently seen stay when trimming
        seen[id] = data[id].comments;
      });
      var keys = Object.keys(seen);
      for (var i = 0; i < keys.length - 500; i++) delete seen[keys[i]];
      localStorage.setItem(STORE, JSON.stringify(seen));
    } catch (e) { /* private mode, quota: "+N nieuw" is optional */ }
  }

  function rendered(el) {  // counts the server put in the page, not yet replaced by this script
    return !el.hasAttribute("data-tribune-filled") && el.hasAttribute("data-comments");
  }

  function fill(el, t) {
    var id = el.getAttribute(ATTR);
    if (rendered(el)) {
      // The page's own counts were read when it was rendered; an API answer may be a few
      // seconds older (server and browser caches), so the first fill never lowers them: a
      // reader back from posting must see their comment counted. reload() shows decreases.
      t = {
        comments: Math.max(t.comments, parseInt(el.getAttribute("data-comments"), 10) || 0),
        votes: Math.max(t.votes, parseInt(el.getAttribute("data-votes"), 10) || 0),
      };
    }
    var show = el.getAttribute("data-tribune-show");
    el.textContent = tallyText(t, show);
    // No comments yet is quiet grey, not the red of a count (tribune.css .tally-zero).
    el.classList.toggle("tally-zero", t.comments === 0 && show !== "votes");
    el.setAttribute("data-comments", t.comments);
    el.setAttribute("data-votes", t.votes);
    var before = baseline[id];
    if (showNew && typeof before === "number" && t.comments > before) {
      var extra = document.createElement("span");
      extra.className = "tribune-new";
      extra.textContent = " +" + (t.comments - before) + " nieuw";
      el.appendChild(extra);
    }
    el.setAttribute("data-tribune-filled", "");
    return t;
  }

  function request(ids, byId, fresh) {
    var url = base + "/api/v1/tallies?ids=" + ids.map(encodeURIComponent).join(",");
    // "no-cache" revalidates with the ETag (a cheap 304) instead of busting CDN caches.
    return fetch(url, { credentials: "omit", cache: fresh ? "no-cache" : "default" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (data) {
        var shown = {};
        ids.forEach(function (id) {
          if (data[id]) byId[id].forEach(function (el) { shown[id] = fill(el, data[id]); });
        });
        if (showNew) writeSeen(shown);
      })
      .catch(function () { /* leave the server-rendered text (or nothing) in place */ });
  }

  function scan(all) {
    var byId = {};
    var fresh = all;
    var nodes = document.querySelectorAll("[" + ATTR + "]");
    for (var i = 0; i < nodes.length; i++) {
      var id = nodes[i].getAttribute(ATTR);
      if (!id || (!all && nodes[i].hasAttribute("data-tribune-filled"))) continue;
      (byId[id] = byId[id] || []).push(nodes[i]);
      // A page rendered with its counts was just fetched: revalidate rather than take the
      // browser's copy of an earlier answer.
      if (rendered(nodes[i])) fresh = true;
    }
    var ids = Object.keys(byId).sort();
    var work = [];
    for (var start = 0; start < ids.length; start += CHUNK) {
      work.push(request(ids.slice(start, start + CHUNK), byId, fresh));
    }
    return Promise.all(work);
  }

  function later() {  // headlines added by infinite scroll: one request per burst
    if (timer) return;
    timer = setTimeout(function () { timer = null; scan(false); }, 50);
  }

  window.TribuneCounts = {
    reload: function () { return scan(true); },
    text: tallyText,
    // comments.js: the article's comment count after the reader's own post in the embed.
    set: function (id, comments) {
      var nodes = document.querySelectorAll("[" + ATTR + "]");
      for (var i = 0; i < nodes.length; i++) {
        if (nodes[i].getAttribute(ATTR) !== id) continue;
        var votes = parseInt(nodes[i].getAttribute("data-votes"), 10) || 0;
        fill(nodes[i], { comments: comments, votes: votes });
      }
    },
  };
  function start() {
    scan(false);
    if (window.MutationObserver) {
      new MutationObserver(function (records) {
        for (var i = 0; i < records.length; i++) {
          if (records[i].addedNodes.length && !records[i].target.hasAttribute(ATTR)) {
            return later();
          }
        }
      }).observe(document.body, { childList: true, subtree: true });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
