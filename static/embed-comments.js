/* Inside the comments embed's iframe (Tribune origin, third-party: no cookie is relied on).
 * Keeps the embed access token in memory only and sends it as `Authorization: Bearer` with
 * every request; every form and in-thread link goes by fetch and the answer's <main> replaces
 * ours. Talks to the host page (comments.js) by postMessage with its checked origin only. */
(function () {
  "use strict";
  var SELF = location.origin;
  var POLL_MS = 20000;
  var first = document.getElementById("tribune-embed");
  if (!first) return;
  var parentOrigin = first.getAttribute("data-parent-origin") || "";
  var article = first.getAttribute("data-article");
  var threadUrl = location.pathname;  // sort and page follow the links the reader takes
  var token = null;
  var refreshTimer = null;
  var etag = null;
  var waiting = null;  // a newer thread, fetched by the check, shown when asked

  function main() { return document.getElementById("tribune-embed"); }

  function tell(message) {
    if (parentOrigin && window.parent !== window) window.parent.postMessage(message, parentOrigin);
  }

  function height() {
    tell({ type: "tribune:height", height: Math.ceil(document.body.getBoundingClientRect().height) + 4 });
  }

  function headers(extra) {
    var h = extra || {};
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  function notice(text, error) {
    var p = document.createElement("p");
    p.className = "notice" + (error ? " error" : "");
    p.setAttribute("role", error ? "alert" : "status");
    p.textContent = text;
    main().insertBefore(p, main().firstChild.nextSibling);
    height();
  }

  function swap(html, focusDefault) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var next = doc.getElementById("tribune-embed");
    if (!next) {
      // An error page of the site (a comment that is gone): its heading says what happened.
      var said = doc.querySelector("main h1, h1");
      notice((said && said.textContent.trim()) || "Dat lukte niet. Probeer het opnieuw.", true);
      return;
    }
    var old = main();
    old.parentNode.replaceChild(document.adoptNode(next), old);
    waiting = null;
    etag = next.getAttribute("data-etag") || etag;
    var focusId = next.getAttribute("data-focus");
    var target = next.querySelector('[aria-invalid="true"]') ||
      (focusId && document.getElementById(focusId)) ||
      (focusDefault && document.getElementById("reacties"));
    if (target) {
      if (!/^(TEXTAREA|INPUT|SELECT|BUTTON|A)$/.test(target.tagName)) target.setAttribute("tabindex", "-1");
      target.focus();
    }
    if (next.hasAttribute("data-own-post")) {
      tell({ type: "tribune:count", article: article, comments: parseInt(next.getAttribute("data-count"), 10) || 0 });
    }
    height();
  }

  function load(url, options, focusDefault) {
    options = options || {};
    options.headers = headers(options.headers);
    options.credentials = "same-origin";
    options.cache = "no-store";
    return fetch(url, options).then(function (response) {
      return response.text().then(function (html) { swap(html, focusDefault); });
    }).catch(function () {
      // Offline for a moment: the typed text stays, the buttons work again.
      var off = main().querySelectorAll("button[disabled]");
      for (var i = 0; i < off.length; i++) off[i].disabled = false;
      notice("Tribune is even niet bereikbaar. Probeer het zo opnieuw.", true);
    });
  }

  function reload() { return load(threadUrl); }

  // ------------------------------------------------------------ the embed access token

  function accept(answer) {
    token = answer.access_token;
    clearTimeout(refreshTimer);
    // Refreshed a minute before it expires (at least after half its life).
    var seconds = Math.max(answer.expires_in / 2, answer.expires_in - 60);
    refreshTimer = setTimeout(refresh, seconds * 1000);
    return reload();
  }

  function api(path, method, body) {
    var h = body ? { "Content-Type": "application/json" } : {};
    return fetch(path, {
      method: method,
      // The exchange is authenticated by its SSO token alone; refresh by the current token.
      headers: body ? h : headers(h),
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || "Aanmelden lukte niet.");
        return data;
      });
    });
  }

  function refused(error) {
    token = null;
    clearTimeout(refreshTimer);
    reload().then(function () { notice(error.message, true); });
  }

  function exchange(ssoToken) {
    api("/api/v1/embed/sessions", "POST", { sso_token: String(ssoToken) }).then(accept, refused);
  }

  function refresh() {
    if (token) api("/api/v1/embed/sessions/refresh", "POST").then(accept, refused);
  }

  function logout() {
    var had = token;
    token = null;
    clearTimeout(refreshTimer);
    var done = function () { reload(); };
    if (had) {
      fetch("/api/v1/embed/sessions/current", {
        method: "DELETE", headers: { Authorization: "Bearer " + had }, credentials: "omit",
      }).then(done, done);
    } else done();
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.type !== "string") return;
    if (event.origin === parentOrigin && event.source === window.parent) {
      if (data.type === "tribune:sso" && typeof data.token === "string") exchange(data.token);
      else if (data.type === "tribune:logout") logout();
    } else if (event.origin === SELF && data.type === "tribune:token" &&
               typeof data.access_token === "string") {
      accept(data);  // from our own sign-in popup (/embed/aanmelden)
    }
  });

  // ------------------------------------------------------------ links and forms

  function popup(link) {
    var win = window.open(link.href, "tribune-aanmelden", "popup,width=480,height=640");
    if (!win) {
      // Blocked: let the link open the same page in a new tab (target=_blank, rel=opener).
      return false;
    }
    win.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("a, button[data-logout], button[data-new]") : null;
    if (!el || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
    if (el.hasAttribute("data-logout")) { event.preventDefault(); logout(); return; }
    if (el.hasAttribute("data-new")) {
      event.preventDefault();
      if (waiting) swap(waiting, true);
      return;
    }
    if (el.hasAttribute("data-popup")) {
      if (popup(el)) event.preventDefault();
      return;
    }
    var url = new URL(el.href, location.href);
    if (url.origin !== SELF || !/^\/embed\/comments\//.test(url.pathname) || el.target) return;
    event.preventDefault();
    if (/^\/embed\/comments\/[^/]+$/.test(url.pathname)) threadUrl = url.pathname + url.search;
    load(url.href, {}, true);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.action || new URL(form.action).origin !== SELF) return;
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    load(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
  });

  // ------------------------------------------------------------ "3 nieuwe reacties"

  function check() {
    if (!etag || document.hidden) return;
    fetch(threadUrl, { headers: headers({ "If-None-Match": etag }), credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status !== 200) return;
        var newTag = response.headers.get("ETag");
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var next = doc.getElementById("tribune-embed");
          var now = parseInt(main().getAttribute("data-count"), 10) || 0;
          var added = next ? (parseInt(next.getAttribute("data-count"), 10) || 0) - now : 0;
          if (added <= 0) return;
          etag = newTag;
          waiting = html;
          var box = document.getElementById("nieuw");
          box.textContent = "";
          var button = document.createElement("button");
          button.type = "button";
          button.setAttribute("data-new", "");
          button.textContent = added === 1 ? "1 nieuwe reactie" : added + " nieuwe reacties";
          box.appendChild(button);
          height();
        });
      })
      .catch(function () { /* offline for a moment: the next check tries again */ });
  }

  etag = first.getAttribute("data-etag");
  setInterval(check, POLL_MS);
  if (window.ResizeObserver) new ResizeObserver(height).observe(document.body);
  window.addEventListener("load", height);
  height();
  tell({ type: "tribune:ready" });
})();
