/* Tribune comments embed: every <div data-tribune-comments="ARTICLE_ID"> gets an open shadow
 * root holding the article's thread (docs/embed.md). The thread fragment and the embed's CSS
 * are fetched at once, in parallel, from the Tribune origin this script came from (CORS, no
 * cookie ever: credentials "omit"); the CSS is adopted into the root before the fragment goes
 * in (no unstyled flash). A signed-in reader's embed access token lives in this closure only
 * (never in storage, never in the DOM) and goes as `Authorization: Bearer` with every request;
 * every form and in-thread link goes by fetch and the answer's fragment replaces the thread;
 * a signed-in reader's posts, replies, edits, reports and appeals go to the JSON API through
 * static/comments-write.js, loaded only then, and are put in place from the answer.
 * Optional on the div: data-tribune-sso (a signed SSO token), data-title, data-url.
 * window.Tribune.comments.login(token) / .logout() for single-page sites. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src*="/static/comments.js"]');
  if (!script || !window.fetch || !Element.prototype.attachShadow) return;
  var base = new URL(script.src, location.href).origin;
  var POLL_MS = 20000;     // until the server's Tribune-Refresh says otherwise
  var ID = /^[A-Za-z0-9_-]{1,64}$/;
  var embeds = [];
  var token = null;        // the embed access token: this closure only
  var refreshTimer = null;
  var exchanging = null;   // the SSO exchange under way: the threads wait for it
  var styles = null;       // one fetch of the CSS for every embed on the page

  function abs(url) { return new URL(url, base + "/"); }

  function withFragment(url) {
    var u = abs(url);
    u.hash = "";
    u.searchParams.set("fragment", "1");
    return u.href;
  }

  function headers(extra) {
    var h = extra || {};
    if (token) h.Authorization = "Bearer " + token;
    return h;
  }

  function request(url, options) {
    options = options || {};
    options.headers = headers(options.headers);
    options.credentials = "omit";  // bearer only: the routes read no cookie
    options.mode = "cors";
    options.cache = "no-store";
    return fetch(url, options);
  }

  function css() {
    if (!styles) {
      styles = fetch(base + "/static/css/embed-comments.css", { credentials: "omit", mode: "cors" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .catch(function () { return ""; });
    }
    return styles;
  }

  function applyCss(root, text) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(text);
        root.adoptedStyleSheets = [sheet];
        return;
      } catch (e) { /* an older browser: a <link> below */ }
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "/static/css/embed-comments.css";
    root.appendChild(link);
  }

  // ------------------------------------------------------------ one embed

  function Embed(holder, id) {
    this.holder = holder;
    this.article = id;
    this.root = holder.attachShadow({ mode: "open" });
    this.etag = null;
    this.waiting = null;  // a newer thread, fetched by the check, shown when asked
    this.nextMs = POLL_MS;
    this.timer = null;
    var canonical = document.querySelector('link[rel="canonical"]');
    var first = new URL(base + "/embed/comments/" + id);
    first.searchParams.set("title", holder.getAttribute("data-title") || document.title);
    first.searchParams.set("url", holder.getAttribute("data-url") ||
      (canonical && canonical.href) || location.href.split("#")[0]);
    this.firstUrl = first.href;  // title and url only matter for creating the article
    this.threadUrl = base + "/embed/comments/" + id;
  }

  Embed.prototype.main = function () { return this.root.getElementById("tribune-embed"); };

  Embed.prototype.notice = function (text, error) {
    var main = this.main();
    if (!main) return;
    var p = document.createElement("p");
    p.className = "notice" + (error ? " error" : "");
    p.setAttribute("role", error ? "alert" : "status");
    p.textContent = text;
    main.insertBefore(p, main.firstChild ? main.firstChild.nextSibling : null);
  };

  Embed.prototype.parse = function (html) {
    var t = document.createElement("template");
    t.innerHTML = html;  // inert: scripts in a template never run, images never load
    return t.content.getElementById ? t.content.getElementById("tribune-embed") :
      t.content.querySelector("#tribune-embed");
  };

  Embed.prototype.swap = function (html, focusDefault) {
    var next = this.parse(html);
    if (!next) {
      // An error page of the site (a comment that is gone): its heading says what happened.
      var t = document.createElement("template");
      t.innerHTML = html;
      var said = t.content.querySelector("main h1, h1");
      this.notice((said && said.textContent.trim()) || "Dat lukte niet. Probeer het opnieuw.", true);
      return;
    }
    this.absolute(next);
    var old = this.main();
    if (old) old.parentNode.replaceChild(next, old);
    else this.root.appendChild(next);
    this.waiting = null;
    this.etag = next.getAttribute("data-etag") || this.etag;
    var focusId = next.getAttribute("data-focus");
    var target = next.querySelector('[aria-invalid="true"]') ||
      (focusId && this.root.getElementById(focusId)) ||
      (focusDefault && this.root.getElementById("reacties"));
    this.focus(target);
    if (next.hasAttribute("data-own-post") && window.TribuneCounts && window.TribuneCounts.set) {
      window.TribuneCounts.set(this.article, parseInt(next.getAttribute("data-count"), 10) || 0);
    }
  };

  // Links and forms point at Tribune: in the host page a relative URL would be the host's.
  Embed.prototype.absolute = function (next) {
    var links = next.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      var url = abs(a.getAttribute("href"));
      if (a.hasAttribute("data-popup")) url.searchParams.set("origin", location.origin);
      a.setAttribute("href", url.href);
    }
    var forms = next.querySelectorAll("form[action]");
    for (var j = 0; j < forms.length; j++) forms[j].setAttribute("action", abs(forms[j].getAttribute("action")).href);
  };

  Embed.prototype.focus = function (target) {
    if (!target) return;
    if (!/^(TEXTAREA|INPUT|SELECT|BUTTON|A)$/.test(target.tagName)) target.setAttribute("tabindex", "-1");
    target.focus();
  };

  // The lean answer to a post or reply (embed/_change.html): the new comment goes in place
  // (or the reader's "in behandeling" card), the notice on top, the form is emptied.
  Embed.prototype.change = function (change, form) {
    var main = this.main();
    var section = main && main.querySelector("section.comments");
    if (!section) { this.reload(); return; }
    this.absolute(change);
    var old = main.querySelectorAll(":scope > p.notice");
    for (var n = 0; n < old.length; n++) old[n].parentNode.removeChild(old[n]);
    var notice = change.querySelector(":scope > p.notice");
    if (notice) main.insertBefore(notice, main.firstChild ? main.firstChild.nextSibling : null);
    if (change.getAttribute("data-place") === "thread") {
      var li = change.querySelector("li.comment");
      var parentId = change.getAttribute("data-parent");
      var parent = parentId && this.root.getElementById("reactie-" + parentId);
      if (parent) {
        var replies = parent.querySelector(":scope > ol.replies");
        if (!replies) {
          replies = document.createElement("ol");
          replies.className = "replies";
          parent.appendChild(replies);
        }
        replies.appendChild(li);
      } else {
        var thread = section.querySelector(":scope > ol.thread");
        var oldest = new URL(this.threadUrl).searchParams.get("volgorde") === "oudste";
        if (oldest) thread.appendChild(li);
        else thread.insertBefore(li, thread.firstChild);
      }
    } else {
      var card = change.querySelector(".own-pending");
      var was = section.querySelector(":scope > .own-pending");
      if (was) section.replaceChild(card, was);
      else section.insertBefore(card, section.querySelector(":scope > p.sort").nextSibling);
    }
    // The count, the heading, the host's tally; the new ETag when nothing else came in
    // meanwhile (else the check still announces the others' comments).
    var before = parseInt(main.getAttribute("data-count"), 10) || 0;
    var count = parseInt(change.getAttribute("data-count"), 10) || 0;
    var mine = change.getAttribute("data-place") === "thread" ? 1 : 0;
    if (count === before + mine) this.etag = change.getAttribute("data-etag") || this.etag;
    main.setAttribute("data-count", String(before + mine));
    var heading = this.root.getElementById("reacties");
    if (heading) heading.textContent = change.getAttribute("data-count-label");
    if (window.TribuneCounts && window.TribuneCounts.set) window.TribuneCounts.set(this.article, count);
    if (form) {
      var fields = form.querySelectorAll("textarea");
      for (var f = 0; f < fields.length; f++) {
        fields[f].value = "";
        fields[f].textContent = "";
        fields[f].removeAttribute("aria-invalid");
      }
      var errors = form.querySelectorAll(".form-error");
      for (var e = 0; e < errors.length; e++) errors[e].parentNode.removeChild(errors[e]);
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = false;
      var details = form.closest("details");
      if (details) details.open = false;
    }
    this.focus(this.root.getElementById(change.getAttribute("data-focus")));
  };

  // A refused post or reply's lean answer (embed/_refused.html): only that form, with the
  // typed text and the error beside the field; it replaces the form (a reply's <details>).
  Embed.prototype.refused = function (answer) {
    var id = answer.getAttribute("data-replace");
    var was = id && this.root.getElementById(id);
    var next = answer.firstElementChild;
    if (!was || !next) { this.reload(); return; }
    if (next.tagName === "DETAILS" && was.parentNode.tagName === "DETAILS") was = was.parentNode;
    this.absolute(answer);
    was.parentNode.replaceChild(next, was);
    this.focus(next.querySelector('[aria-invalid="true"]'));
  };

  Embed.prototype.load = function (url, options, focusDefault, form) {
    var self = this;
    return request(withFragment(url), options).then(function (response) {
      return response.text().then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html;
        var change = t.content.querySelector("#tribune-change");
        var refusedForm = change ? null : t.content.querySelector("#tribune-refused");
        if (change) self.change(change, form);
        else if (refusedForm) self.refused(refusedForm);
        else self.swap(html, focusDefault);
      });
    }).catch(function () {
      // Offline for a moment: the typed text stays, the buttons work again.
      var main = self.main();
      var off = main ? main.querySelectorAll("button[disabled]") : [];
      for (var i = 0; i < off.length; i++) off[i].disabled = false;
      self.notice("Tribune is even niet bereikbaar. Probeer het zo opnieuw.", true);
    });
  };

  Embed.prototype.reload = function () { return this.load(this.threadUrl); };

  Embed.prototype.start = function () {
    var self = this;
    // Both at once; the CSS goes in first, then the thread.
    var thread = (exchanging || Promise.resolve()).then(function () {
      return request(withFragment(self.firstUrl)).then(function (r) { self.pace(r); return r.text(); });
    });
    Promise.all([css(), thread]).then(function (got) {
      applyCss(self.root, got[0]);
      self.swap(got[1], false);
      // A refused SSO token (start() waited for the exchange): said once the thread is in.
      if (self.pendingError) self.notice(self.pendingError, true);
      self.pendingError = null;
    }).catch(function () {
      applyCss(self.root, "");
      var p = document.createElement("p");
      p.setAttribute("role", "alert");
      p.textContent = "De reacties konden niet geladen worden. Probeer het later opnieuw.";
      self.root.appendChild(p);
    });
    this.root.addEventListener("click", function (event) { self.click(event); });
    this.root.addEventListener("submit", function (event) { self.submit(event); });
    this.root.addEventListener("keydown", function (event) { self.key(event); });
  };

  // Escape in an open reply, edit, report or appeal form closes it (the typed text stays for
  // when it is opened again) and puts the focus back on its "Antwoorden"/"Bewerken"/… toggle.
  Embed.prototype.key = function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var details = event.target.closest("details[open]");
    var summary = details && details.querySelector(":scope > summary");
    if (!summary) return;
    event.preventDefault();
    details.open = false;
    summary.focus();
  };

  // A comment's reply, edit or report form, cloned from the fragment's <template> when its
  // <details data-form> is first opened (rendered once, not per comment): the template's
  // placeholder id becomes the comment's, the label names the author, edit holds the text.
  Embed.prototype.fill = function (details) {
    if (details.querySelector("form")) return;
    var kind = details.getAttribute("data-form");
    var template = this.root.getElementById("vorm-" + kind);
    var li = details.closest("li.comment");
    if (!template || !li) return;
    var id = li.id.replace("reactie-", "");
    var placeholder = template.getAttribute("data-placeholder");
    var form = template.content.querySelector("form").cloneNode(true);
    var all = [form].concat(Array.prototype.slice.call(form.querySelectorAll("*")));
    ["id", "for", "action", "value", "aria-describedby"].forEach(function (name) {
      all.forEach(function (el) {
        var v = el.getAttribute(name);
        if (v && v.indexOf(placeholder) !== -1) el.setAttribute(name, v.split(placeholder).join(id));
      });
    });
    if (kind === "reply") {
      var label = form.querySelector("label");
      if (label) label.textContent = "Je antwoord aan " + (details.getAttribute("data-author") || "");
    }
    if (kind === "edit") {
      var text = form.querySelector("textarea");
      text.value = text.textContent = details.getAttribute("data-body") || "";
    }
    form.setAttribute("action", abs(form.getAttribute("action")).href);
    details.appendChild(form);
  };

  Embed.prototype.click = function (event) {
    var summary = event.target.closest ? event.target.closest("summary") : null;
    var holder = summary && summary.parentNode;
    if (holder && holder.hasAttribute && holder.hasAttribute("data-form")) this.fill(holder);
    var el = event.target.closest ? event.target.closest("a, button[data-logout], button[data-new]") : null;
    if (!el || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey) return;
    if (el.hasAttribute("data-logout")) { event.preventDefault(); logout(); return; }
    if (el.hasAttribute("data-new")) {
      event.preventDefault();
      if (this.waiting) {
        var drafts = this.drafts();
        this.swap(this.waiting, true);
        this.restore(drafts);
      }
      return;
    }
    if (el.hasAttribute("data-popup")) {
      // Blocked: the link itself opens the same page in a new tab (target=_blank, rel=opener).
      var win = window.open(el.href, "tribune-aanmelden", "popup,width=480,height=640");
      if (win) { event.preventDefault(); win.focus(); }
      return;
    }
    var url = new URL(el.href);
    if (url.origin !== base || !/^\/embed\/comments\//.test(url.pathname) || el.target) return;
    event.preventDefault();
    if (/^\/embed\/comments\/[^/]+$/.test(url.pathname)) this.threadUrl = url.href;
    this.load(url.href, {}, true);
  };

  Embed.prototype.submit = function (event) {
    var form = event.target;
    var action = form.getAttribute && form.getAttribute("action");
    if (!action || new URL(action).origin !== base) return;
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    // Signed in, posts, replies, edits, reports and appeals go to the JSON API once the writing
    // half (static/comments-write.js) is in; until then (or for anything else) the form route.
    if (token && this.write && this.write(form, new URL(action).pathname)) return;
    this.load(action, { method: "POST", body: new URLSearchParams(new FormData(form)) }, false, form);
  };

  // The next check after the server's Tribune-Refresh seconds (shorter while a poll of the
  // article is open, longer under load: live/pacing.py).
  Embed.prototype.pace = function (response) {
    this.live = response.headers.get("Tribune-Live") === "1";
    var seconds = parseInt(response.headers.get("Tribune-Refresh"), 10);
    if (seconds > 0) this.nextMs = Math.min(seconds, 600) * 1000;
    this.schedule();
  };

  Embed.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.check(); }, this.nextMs);
  };

  // A reader who is typing or has a form open is never disturbed: the thread is not swapped
  // under them (their text would go); "3 nieuwe reacties" waits for them instead.
  Embed.prototype.busy = function () {
    var active = this.root.activeElement;
    if (active && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName)) return true;
    var fields = this.root.querySelectorAll("textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim()) return true;
    return Boolean(this.root.querySelector("details[data-form][open]"));
  };

  // What the reader typed, to put back after the thread was swapped on their request: the
  // post form's text by its id, a reply's (or edit's) by its comment, whose form is filled
  // again from its template.
  Embed.prototype.drafts = function () {
    var out = [];
    var fields = this.root.querySelectorAll("textarea");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (!field.value.trim() || !field.id) continue;
      var details = field.closest("details[data-form]");
      var li = details && details.closest("li.comment");
      out.push({
        id: field.id, value: field.value, focused: this.root.activeElement === field,
        kind: details ? details.getAttribute("data-form") : null, li: li ? li.id : null,
      });
    }
    return out;
  };

  Embed.prototype.restore = function (drafts) {
    var self = this;
    drafts.forEach(function (draft) {
      var field = self.root.getElementById(draft.id);
      if (!field && draft.li) {
        var li = self.root.getElementById(draft.li);
        var details = li && li.querySelector('details[data-form="' + draft.kind + '"]');
        if (details) {
          self.fill(details);
          details.open = true;
          field = self.root.getElementById(draft.id);
        }
      }
      if (!field) return;
      field.value = draft.value;
      if (draft.focused) field.focus();
    });
  };

  // A conditional request. While the article is live (a poll open: Tribune-Live) the newer
  // thread goes in at once when the reader is not busy; else, and on a quiet day, it waits
  // behind "3 nieuwe reacties" until asked for (the list does not move under a reader).
  Embed.prototype.check = function () {
    var self = this;
    if (!self.etag || document.hidden) { self.schedule(); return; }
    request(withFragment(self.threadUrl), { headers: { "If-None-Match": self.etag } })
      .then(function (response) {
        self.pace(response);
        if (response.status !== 200) return;
        var newTag = response.headers.get("ETag");
        return response.text().then(function (html) {
          var next = self.parse(html);
          var main = self.main();
          if (next && self.live && !self.busy()) { self.swap(html, false); return; }
          var now = main ? parseInt(main.getAttribute("data-count"), 10) || 0 : 0;
          var added = next ? (parseInt(next.getAttribute("data-count"), 10) || 0) - now : 0;
          if (added <= 0) {
            // Nothing new from others (the reader's own post, put in place already): the
            // thread as shown is current, so its ETag is taken and the next check is a 304.
            // Live, the old ETag stays, so the change goes in once the reader is done.
            if (!self.live) self.etag = newTag || self.etag;
            return;
          }
          self.etag = newTag || self.etag;
          self.waiting = html;
          var box = self.root.getElementById("nieuw");
          if (!box) return;
          box.textContent = "";
          var button = document.createElement("button");
          button.type = "button";
          button.setAttribute("data-new", "");
          button.textContent = added === 1 ? "1 nieuwe reactie" : added + " nieuwe reacties";
          box.appendChild(button);
        });
      })
      .catch(function () { self.schedule(); /* offline for a moment: the next check tries again */ });
  };

  function reloadAll() {
    return Promise.all(embeds.map(function (e) { return e.reload(); }));
  }

  function noticeAll(text) {
    embeds.forEach(function (e) { e.notice(text, true); });
  }

  // ------------------------------------------------------------ the embed access token

  // The writing half: loaded once, when a reader is signed in (an anonymous reader never
  // downloads it). It installs its methods on Embed through the hook below, which accepts them
  // only from that script itself (document.currentScript), not from another script of the page.
  var WRITER = base + "/static/comments-write.js";
  var writer = null;

  function loadWriter() {
    if (!writer) {
      writer = new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = WRITER;
        script.async = true;
        // Not loaded (offline, blocked): the form routes still answer every write.
        script.onload = script.onerror = function () { resolve(); };
        (document.head || document.documentElement).appendChild(script);
      });
    }
    return writer;
  }

  function install(define) {
    var from = document.currentScript;
    if (!from || from.src !== WRITER || Embed.prototype.write) return;
    define(Embed, { base: base, request: request, refused: refused });
  }

  function accept(answer, quiet) {
    token = answer.access_token;
    var ready = loadWriter();  // the signed-in thread is shown once the writer is in
    clearTimeout(refreshTimer);
    // Refreshed a minute before it expires (at least after half its life).
    var seconds = Math.max(answer.expires_in / 2, answer.expires_in - 60);
    refreshTimer = setTimeout(refresh, seconds * 1000);
    return quiet ? ready : ready.then(reloadAll);
  }

  function api(path, method, body) {
    var h = body ? { "Content-Type": "application/json" } : {};
    return fetch(base + path, {
      method: method,
      // The exchange is authenticated by its SSO token alone; refresh by the current token.
      headers: body ? h : headers(h),
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      mode: "cors",
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
    return reloadAll().then(function () { noticeAll(error.message); });
  }

  function exchange(ssoToken, quiet) {
    return api("/api/v1/embed/sessions", "POST", { sso_token: String(ssoToken) })
      .then(function (answer) { return accept(answer, quiet); }, function (error) {
        token = null;
        clearTimeout(refreshTimer);
        if (quiet) {
          // Before the first render: the threads show the message once they are in.
          embeds.forEach(function (e) { e.pendingError = error.message; });
          return null;
        }
        return refused(error);
      });
  }

  function refresh() {
    if (token) api("/api/v1/embed/sessions/refresh", "POST").then(function (a) { return accept(a, true); }, refused);
  }

  function logout() {
    var had = token;
    token = null;
    clearTimeout(refreshTimer);
    if (!had) return reloadAll();
    return fetch(base + "/api/v1/embed/sessions/current", {
      method: "DELETE", headers: { Authorization: "Bearer " + had }, credentials: "omit", mode: "cors",
    }).then(reloadAll, reloadAll);
  }

  // The sign-in popup (/embed/aanmelden?origin=<this page's origin>) hands over a token.
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== base || !data || data.type !== "tribune:token" ||
        typeof data.access_token !== "string" || typeof data.expires_in !== "number") return;
    accept({ access_token: data.access_token, expires_in: data.expires_in });
  });

  // ------------------------------------------------------------ start

  function scan() {
    var holders = document.querySelectorAll("[data-tribune-comments]");
    var sso = null;
    var fresh = [];
    for (var i = 0; i < holders.length; i++) {
      var holder = holders[i];
      var id = holder.getAttribute("data-tribune-comments");
      if (holder.shadowRoot || !ID.test(id || "")) continue;
      var embed = new Embed(holder, id);
      embeds.push(embed);
      fresh.push(embed);
      sso = sso || holder.getAttribute("data-tribune-sso");
    }
    if (sso && !token) exchanging = exchange(sso, true);
    fresh.forEach(function (e) { e.start(); });
    exchanging = null;
  }

  window.Tribune = window.Tribune || {};
  window.Tribune.comments = {
    login: function (ssoToken) { return exchange(ssoToken, false); },
    logout: function () {
      embeds.forEach(function (e) { e.holder.removeAttribute("data-tribune-sso"); });
      return logout();
    },
    _install: install,  // for static/comments-write.js only (see install)
  };
  // At once (the divs above this script are there already), and again for later ones.
  scan();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
})();
