/* Tribune poll widget, inside the /embed/polls/<id> iframe.
 * Progressive enhancement of the plain form: votes go to the JSON API with the signed voter
 * token in a header (no cookie needed). The token is kept in a partitioned cookie where the
 * browser allows it, else in localStorage (inside try/catch: it throws in some blocked
 * iframes), else in memory. The height goes to the host page with postMessage, only to the
 * parent origin the server checked against EMBED_ALLOWED_ORIGINS. */
(function () {
  "use strict";
  var root = document.querySelector("[data-poll-widget]");
  if (!root) return;
  var pollId = root.getAttribute("data-poll-id");
  var parentOrigin = root.getAttribute("data-parent-origin") || "";
  var api = root.getAttribute("data-api");
  var anonymous = root.getAttribute("data-anonymous") === "yes";
  var max = parseInt(root.getAttribute("data-max"), 10) || 1;
  var name = "tribune_voter_" + pollId;
  var memoryToken = null;
  var storage = "memory";

  function readCookie() {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(name + "=") === 0) return decodeURIComponent(parts[i].slice(name.length + 1));
    }
    return null;
  }
  function readToken() {
    var value = null;
    try { value = readCookie(); } catch (e) { value = null; }
    if (value) return value;
    try { value = window.localStorage.getItem(name); } catch (e) { value = null; }
    return value || memoryToken;
  }
  function storeToken(token) {
    memoryToken = token;
    storage = "memory";
    try {
      document.cookie = name + "=" + encodeURIComponent(token) +
        "; Max-Age=2592000; Path=/; SameSite=None; Secure; Partitioned";
      if (readCookie() === token) { storage = "cookie"; return; }
    } catch (e) { /* cookies blocked */ }
    try {
      window.localStorage.setItem(name, token);
      storage = "localStorage";
    } catch (e) { /* storage blocked: memory only */ }
  }
  function forgetToken() {
    memoryToken = null;
    try { document.cookie = name + "=; Max-Age=0; Path=/; SameSite=None; Secure; Partitioned"; } catch (e) {}
    try { window.localStorage.removeItem(name); } catch (e) {}
  }
  root.setAttribute("data-token-storage", storage);

  function postHeight() {
    if (!parentOrigin || window.parent === window) return;
    // The body, not the document: the document never reports less than the iframe viewport.
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    window.parent.postMessage({ type: "tribune:poll:v1:height", pollId: pollId, height: height }, parentOrigin);
  }
  window.addEventListener("message", function (event) {
    // Only the host page we were told about (and checked server-side) may ask.
    if (!parentOrigin || event.origin !== parentOrigin || event.source !== window.parent) return;
    var data = event.data;
    if (data && data.type === "tribune:poll:v1:ping") postHeight();
  });
  if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
  window.addEventListener("load", postHeight);

  function request(method, url, body, token) {
    var headers = { "Accept": "application/json" };
    if (body !== null) headers["Content-Type"] = "application/json";
    if (token) headers["X-Tribune-Voter-Token"] = token;
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === null ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }
  function newToken() {
    return request("POST", "/api/v1/polls/" + pollId + "/voter-token", {}, null).then(function (r) {
      if (r.status !== 201) throw r;
      storeToken(r.data.voter_token);
      root.setAttribute("data-token-storage", storage);
      return r.data.voter_token;
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function stand(poll, results, title, own) {
    var box = el("div", "poll-stand");
    if (title) box.appendChild(el("h3", "poll-stand-title", title));
    var list = el("ul", "poll-bars");
    var labels = {};
    poll.options.forEach(function (o) { labels[o.id] = o.label; });
    var top = 0;
    results.options.forEach(function (o) { top = Math.max(top, o.votes); });
    results.options.forEach(function (o) {
      var item = el("li", "poll-bar" + (own.indexOf(o.id) >= 0 ? " poll-bar-own" : "") +
        (top && o.votes === top ? " poll-bar-lead" : ""));
      item.appendChild(el("span", "poll-bar-label", labels[o.id]));
      var figure = el("span", "poll-bar-figure", o.percent + "% ");
      figure.appendChild(el("span", "poll-bar-count", "(" + o.votes + ")"));
      item.appendChild(figure);
      var svgNs = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(svgNs, "svg");
      svg.setAttribute("class", "poll-bar-track");
      svg.setAttribute("viewBox", "0 0 100 6");
      svg.setAttribute("preserveAspectRatio", "none");
      svg.setAttribute("aria-hidden", "true");
      [["poll-bar-bg", 100], ["poll-bar-fill", Math.min(o.percent, 100)]].forEach(function (pair) {
        var rect = document.createElementNS(svgNs, "rect");
        rect.setAttribute("class", pair[0]);
        rect.setAttribute("width", String(pair[1]));
        rect.setAttribute("height", "6");
        svg.appendChild(rect);
      });
      item.appendChild(svg);
      list.appendChild(item);
    });
    box.appendChild(list);
    var total = results.total === 0 ? "Nog geen stemmen" : results.total + (results.total === 1 ? " stem" : " stemmen");
    box.appendChild(el("p", "poll-total", total));
    return box;
  }
  function render(poll) {
    var region = root.querySelector(".poll-results");
    var own = poll.own_ballot ? poll.own_ballot.option_ids : [];
    while (region.firstChild) region.removeChild(region.firstChild);
    if (own.length) {
      var labels = poll.options.filter(function (o) { return own.indexOf(o.id) >= 0; })
        .map(function (o) { return o.label; });
      region.appendChild(el("p", "poll-own", "Jouw stem: " + labels.join(", ")));
    }
    if (poll.results) {
      // One stand; the logged-in fans' beside it only where the server says it differs enough.
      var split = Boolean(poll.results_split && poll.results_members);
      region.appendChild(stand(poll, poll.results, split ? "Alle stemmen" : null, own));
      if (split) {
        var members = stand(poll, poll.results_members, "Enkel aangemelde fans", own);
        members.className += " poll-stand-members";
        region.appendChild(members);
      }
    } else {
      region.appendChild(el("p", "poll-note", "De stand verschijnt later."));
    }
    if (own.length) {
      var form = root.querySelector(".poll-form");
      if (form) form.parentNode.removeChild(form);
    }
    postHeight();
  }
  function message(text, isError) {
    var old = root.querySelector(".poll-message");
    if (old) old.parentNode.removeChild(old);
    var node = el("p", "poll-message " + (isError ? "poll-error" : "poll-notice"), text);
    node.setAttribute("role", isError ? "alert" : "status");
    root.insertBefore(node, root.firstChild);
    postHeight();
  }

  var form = root.querySelector(".poll-form");
  if (form) {
    if (max > 1) {
      form.addEventListener("change", function () {
        var boxes = form.querySelectorAll("input[name=option]");
        var checked = form.querySelectorAll("input[name=option]:checked").length;
        for (var i = 0; i < boxes.length; i++) boxes[i].disabled = !boxes[i].checked && checked >= max;
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var ids = Array.prototype.map.call(form.querySelectorAll("input[name=option]:checked"),
        function (input) { return parseInt(input.value, 10); });
      if (!ids.length) { message("Kies eerst een antwoord.", true); return; }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var attempt = function (retry) {
        var token = readToken();
        var ready = token || !anonymous ? Promise.resolve(token) : newToken();
        return ready.then(function (voterToken) {
          var body = { option_ids: ids };
          // The vote badge's checkbox is only there for a signed-in fan (embed/_poll.html).
          var badge = form.querySelector("input[name=show_badge]");
          if (badge) body.show_badge = badge.checked;
          return request("POST", "/api/v1/polls/" + pollId + "/votes", body, voterToken);
        }).then(function (r) {
          var code = r.data && r.data.error ? r.data.error.code : "";
          if (retry && (code === "voter_token_expired" || code === "invalid_voter_token" || code === "foreign_voter_token")) {
            forgetToken();
            return attempt(false);
          }
          if (r.status === 201 || r.status === 200) {
            message(r.status === 201 ? "Bedankt, je stem is geteld." : "Je had al gestemd; je stem blijft dezelfde.", false);
            root.setAttribute("data-voted", "yes");
            render(r.data.poll);
            // The full stand (with the logged-in-only split) from the uncached read.
            request("GET", api, null, readToken()).then(function (full) {
              if (full.status === 200) render(full.data);
            });
          } else {
            message((r.data && r.data.error && r.data.error.message) || "Je stem kon niet verwerkt worden.", true);
          }
        });
      };
      attempt(true).catch(function (failure) {
        var data = failure && failure.data;
        message((data && data.error && data.error.message) || "Je stem kon niet verwerkt worden. Probeer opnieuw.", true);
      }).then(function () { button.disabled = false; });
    });
  }

  // A returning voter: show their own ballot and the stand without a new vote.
  var known = readToken();
  // Player ratings and score predictions render their stand on the server only (their forms
  // are plain posts).
  var kind = root.getAttribute("data-kind");
  var serverRendered = kind === "player_ratings" || kind === "score_prediction";
  if (known && !serverRendered) {
    request("GET", api, null, known).then(function (r) {
      if (r.status === 200 && r.data.own_ballot) render(r.data);
    });
  }

  // Live while the poll is open: a conditional read after the server's Tribune-Refresh
  // seconds; a changed stand replaces the results region only (a choice being made stays).
  var liveTag = null;
  var liveMs = (parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000;
  function liveCheck() {
    if (document.hidden) { setTimeout(liveCheck, liveMs); return; }
    var headers = { "Accept": "application/json" };
    var voterToken = readToken();
    if (voterToken) headers["X-Tribune-Voter-Token"] = voterToken;
    if (liveTag) headers["If-None-Match"] = liveTag;
    fetch(api, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (response) {
      var seconds = parseInt(response.headers.get("Tribune-Refresh"), 10);
      if (seconds > 0) liveMs = Math.min(seconds, 600) * 1000;
      if (response.status !== 200) return true;
      liveTag = response.headers.get("ETag") || liveTag;
      return response.json().then(function (poll) {
        root.setAttribute("data-state", poll.state);
        if (serverRendered) {
          // Its stand is rendered on the server: the page's own stand replaces this one.
          return fetch(location.href, { credentials: "same-origin", cache: "no-store" })
            .then(function (page) { return page.text(); })
            .then(function (html) {
              var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".poll-results");
              var region = root.querySelector(".poll-results");
              if (fresh && region) region.parentNode.replaceChild(document.importNode(fresh, true), region);
              postHeight();
              return poll.state === "open";
            });
        }
        if (poll.results || poll.own_ballot) render(poll);
        return poll.state === "open";
      });
    }).catch(function () { return true; }).then(function (again) {
      if (again) setTimeout(liveCheck, liveMs);
    });
  }
  if (root.getAttribute("data-state") === "open") setTimeout(liveCheck, liveMs);
})();
