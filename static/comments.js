/* Tribune comments embed: every <div data-tribune-comments="ARTICLE_ID"> gets an open shadow
 * root holding the article's thread (docs/embed.md). The thread fragment and the embed's CSS
 * are fetched at once, in parallel, from the Tribune origin this script came from (CORS, no
 * cookie ever: credentials "omit"); the CSS is adopted into the root before the fragment goes
 * in (no unstyled flash). A signed-in reader's embed access token lives in this closure only
 * (never in storage, never in the DOM) and goes as `Authorization: Bearer` with every request;
 * every form and in-thread link goes by fetch and the answer's fragment replaces the thread,
 * except a post or reply's lean answer (only the new comment and its notice), put in place.
 * Optional on the div: data-tribune-sso (a signed SSO token), data-title, data-url.
 * window.Tribune.comments.login(token) / .logout() for single-page sites. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src*="/static/comments.js"]');
  if (!script || !window.fetch || !Element.prototype.attachShadow) return;
  var base = new URL(script.src, location.href).origin;
  var POLL_MS = 20000;
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
      return request(withFragment(self.firstUrl)).then(function (r) { return r.text(); });
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
      if (this.waiting) this.swap(this.waiting, true);
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
    // A post or reply (the thread's post route) goes to the JSON API when signed in and the
    // fragment brought the new comment's templates; everything else answers a fragment.
    var path = new URL(action).pathname;
    if (/^\/embed\/comments\/[^/]+\/reacties$/.test(path) && token &&
        this.root.getElementById("vorm-comment")) {
      this.post(form);
      return;
    }
    // An edit, a report or an appeal: the JSON API too (the templates bring the words).
    var own = /^\/embed\/comments\/reacties\/([0-9]+)\/(bewerken|melden|bezwaar)$/.exec(path);
    var words = { bewerken: "vorm-edit", melden: "vorm-report", bezwaar: "vorm-rejected" };
    if (own && token && this.root.getElementById(words[own[2]])) {
      if (own[2] === "bewerken") this.edit(form, own[1]);
      else if (own[2] === "melden") this.report(form, own[1]);
      else this.appeal(form, own[1]);
      return;
    }
    this.load(action, { method: "POST", body: new URLSearchParams(new FormData(form)) }, false, form);
  };

  // ------------------------------------------------------------ posting through the API

  // POST /api/v1/articles/<id>/comments with the bearer token, as JSON (docs/embed.md): 201
  // published, 202 held, 422 comment_rejected (stored), any other refusal beside the field.
  // The new comment is built from the answer and the fragment's templates: no second request.
  Embed.prototype.post = function (form) {
    var self = this;
    var field = form.querySelector("textarea");
    var parent = form.querySelector('input[name="parent_id"]');
    var parentId = parent && /^[0-9]{1,18}$/.test(parent.value) ? parseInt(parent.value, 10) : null;
    var payload = { body: field ? field.value : "", parent_id: parentId };
    return request(base + "/api/v1/articles/" + encodeURIComponent(this.article) + "/comments", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        var error = data.error || {};
        if (response.status === 201 || response.status === 202) {
          self.posted(data, form, parentId);
        } else if (response.status === 422 && error.code === "comment_rejected" && error.details) {
          self.posted({
            id: error.details.comment_id,
            body: payload.body,
            state: "rejected",
            reasons: error.details.reasons || [],
            decision_reason: error.details.decision_reason,
          }, form, parentId);
        } else if (response.status === 401) {
          refused(new Error(error.message || "Meld je opnieuw aan."));
        } else {
          self.fieldError(form, error.message || "Dat lukte niet. Probeer het opnieuw.");
        }
      });
    }).catch(function () { self.offline(form); });
  };

  // A refusal beside the text field, as the server's form macro puts it: the typed text
  // stays, the field is marked invalid and described by the error, the cursor goes into it.
  Embed.prototype.fieldError = function (form, message, field) {
    if (field === undefined) field = form.querySelector("textarea");
    var old = form.querySelectorAll(".form-error");
    for (var i = 0; i < old.length; i++) old[i].parentNode.removeChild(old[i]);
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = false;
    var p = document.createElement("p");
    p.className = "form-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    if (!field) {
      // A refusal that names no field: above the fields (the form_errors macro's place).
      form.insertBefore(p, form.querySelector("label"));
      this.focus(form.querySelector("select, textarea, input:not([type=hidden])"));
      return;
    }
    p.id = field.id + "-error";
    field.parentNode.insertBefore(p, field.nextSibling);
    field.setAttribute("aria-invalid", "true");
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== p.id;
    });
    described.push(p.id);
    field.setAttribute("aria-describedby", described.join(" "));
    this.focus(field);
  };

  // A template of the fragment (embed/_form_templates.html), cloned, the placeholder id
  // replaced by the comment's in every id, link and form attribute.
  Embed.prototype.stamp = function (name, id) {
    var template = this.root.getElementById(name);
    if (!template) return null;
    var placeholder = template.getAttribute("data-placeholder");
    var copy = template.content.cloneNode(true);
    var all = copy.querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      for (var a = 0; a < all[i].attributes.length; a++) {
        var attr = all[i].attributes[a];
        if (attr.value.indexOf(placeholder) !== -1) attr.value = attr.value.split(placeholder).join(String(id));
      }
    }
    return { template: template, content: copy };
  };

  // Fill a text where the template's marker stands (a reason's Dutch label).
  function mark(el, marker, text) {
    if (el) el.textContent = el.textContent.split(marker).join(text);
  }

  Embed.prototype.posted = function (data, form, parentId) {
    var main = this.main();
    var section = main && main.querySelector("section.comments");
    var published = data.state === "published";
    var kind = published ? "vorm-comment" : data.state === "rejected" ? "vorm-rejected" :
      (data.reasons && data.reasons.length ? "vorm-held-signals" : "vorm-held");
    var stamped = section && this.stamp(kind, data.id);
    if (!stamped) { this.reload(); return; }
    var template = stamped.template;
    var marker = template.getAttribute("data-marker");
    var focusId = "reacties";
    if (published) {
      var li = stamped.content.querySelector("li.comment");
      fillComment(li, data, marker, this.root.getElementById("reactie-" + parentId));
      this.absolute(li);  // links at Tribune; the text's links spelt as the thread's (URL parser)
      this.place(li, section, parentId);
      focusId = li.id;
    } else {
      var labels = {};
      try {
        labels = JSON.parse(this.root.getElementById("vorm-held").getAttribute("data-reasons")) || {};
      } catch (e) { /* no labels: the codes themselves */ }
      var entry = stamped.content.querySelector(".own-pending li");
      fillBody(entry.querySelector(".comment-body"), data.body);
      if (data.state === "rejected") {
        var reason = data.decision_reason || (data.reasons || [])[0] || "";
        mark(entry.querySelector(".form-error"), marker, labels[reason] || reason);
      } else {
        var named = [];
        (data.reasons || []).forEach(function (code) {
          var label = labels[code] || code;
          if (named.indexOf(label) === -1) named.push(label);
        });
        mark(entry.querySelector(".muted"), marker, named.join(", "));
      }
      this.absolute(entry);
      var card = section.querySelector(":scope > .own-pending");
      if (card) {
        var list = card.querySelector("ul");
        list.insertBefore(entry, list.firstChild);  // newest first, as the server lists them
      } else {
        section.insertBefore(stamped.content.querySelector(".own-pending"),
          section.querySelector(":scope > p.sort").nextSibling);
      }
    }
    this.announce(template.getAttribute("data-notice"), data.state === "rejected");
    // The count, the heading, the host page's tally. The ETag stays: the next check fetches
    // the thread once, finds no one else's comment and takes the new ETag quietly.
    var count = (parseInt(main.getAttribute("data-count"), 10) || 0) + (published ? 1 : 0);
    main.setAttribute("data-count", String(count));
    var words = this.root.getElementById("vorm-comment");
    var heading = this.root.getElementById("reacties");
    if (heading && published) {
      heading.textContent = count === 1 ? words.getAttribute("data-count-one") :
        words.getAttribute("data-count-many").split(words.getAttribute("data-placeholder")).join(String(count));
    }
    if (window.TribuneCounts && window.TribuneCounts.set) window.TribuneCounts.set(this.article, count);
    this.reset(form);
    this.focus(this.root.getElementById(focusId));
  };

  // The outcome notice on top of the thread (a template's Dutch text), replacing an older one.
  Embed.prototype.announce = function (text, error) {
    var main = this.main();
    if (!main || !text) return;
    var old = main.querySelectorAll(":scope > p.notice");
    for (var n = 0; n < old.length; n++) old[n].parentNode.removeChild(old[n]);
    this.notice(text, error);
  };

  // A JSON API call with the bearer token: resolves to {status, data} (data: {} if not JSON).
  function send(method, path, payload) {
    return request(base + path, {
      method: method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  // An answered per-comment form: closed, and taken out so that opening it again clones a
  // fresh one from the template (with the comment's new text, for an edit).
  function done(form) {
    var details = form.closest("details");
    if (details) details.open = false;
    form.parentNode.removeChild(form);
  }

  // PATCH /api/v1/comments/<id>: 200 the new text goes in place (as the thread renders an
  // edited comment: its text, "· bewerkt"); 202 held, the comment leaves the thread: the
  // thread is fetched again with the notice; a refusal beside the field, the text kept.
  Embed.prototype.edit = function (form, id) {
    var self = this;
    var field = form.querySelector("textarea");
    var words = this.root.getElementById("vorm-edit");
    return send("PATCH", "/api/v1/comments/" + id, { body: field.value }).then(function (answer) {
      var error = answer.data.error || {};
      var li = self.root.getElementById("reactie-" + id);
      if (answer.status === 200 && li) {
        var body = li.querySelector(":scope > .comment-body");
        fillBody(body, answer.data.body);
        self.absolute(body);
        var holder = form.closest("details");
        if (holder) holder.setAttribute("data-body", answer.data.body);
        var time = li.querySelector(":scope > .comment-meta time");
        if (time && !time.nextSibling) time.parentNode.appendChild(document.createTextNode(words.getAttribute("data-edited")));
        done(form);
        self.announce(words.getAttribute("data-notice"), false);
        self.focus(li);
      } else if (answer.status === 200 || answer.status === 202) {
        self.reload().then(function () { self.announce(words.getAttribute("data-notice-held"), false); });
      } else if (answer.status === 401) {
        refused(new Error(error.message || "Meld je opnieuw aan."));
      } else {
        self.fieldError(form, error.message || "Dat lukte niet. Probeer het opnieuw.");
      }
    }).catch(function () { self.offline(form); });
  };

  // POST /api/v1/comments/<id>/reports: 201 reported, 200 reported before; a refusal beside
  // the field it names (reason, note), else above the fields.
  Embed.prototype.report = function (form, id) {
    var self = this;
    var reason = form.querySelector('select[name="reason"]');
    var note = form.querySelector('[name="note"]');
    var words = this.root.getElementById("vorm-report");
    var payload = { reason: reason ? reason.value : "", note: note && note.value.trim() ? note.value : null };
    return send("POST", "/api/v1/comments/" + id + "/reports", payload).then(function (answer) {
      var error = answer.data.error || {};
      if (answer.status === 201 || answer.status === 200) {
        done(form);
        self.announce(words.getAttribute(answer.status === 201 ? "data-notice" : "data-notice-again"), false);
        self.focus(self.root.getElementById("reactie-" + id));
      } else if (answer.status === 401) {
        refused(new Error(error.message || "Meld je opnieuw aan."));
      } else {
        var field = error.code === "invalid_reason" ? reason : error.code === "invalid_note" ? note : null;
        self.fieldError(form, error.message || "Dat lukte niet. Probeer het opnieuw.", field);
      }
    }).catch(function () { self.offline(form); });
  };

  // POST /api/v1/comments/<id>/appeal: 201 filed, the card says so where the form was (as
  // pages/_own_pending.html shows a pending appeal); a refusal beside the text.
  Embed.prototype.appeal = function (form, id) {
    var self = this;
    var field = form.querySelector("textarea");
    var words = this.root.getElementById("vorm-rejected");
    return send("POST", "/api/v1/comments/" + id + "/appeal", { body: field.value }).then(function (answer) {
      var error = answer.data.error || {};
      if (answer.status === 201) {
        var details = form.closest("details");
        var said = document.createElement("p");
        said.className = "muted";
        said.textContent = words.getAttribute("data-appealed");
        if (details) details.parentNode.replaceChild(said, details);
        self.announce(words.getAttribute("data-appeal-notice"), false);
        self.focus(self.root.getElementById("reactie-" + id));
      } else if (answer.status === 401) {
        refused(new Error(error.message || "Meld je opnieuw aan."));
      } else {
        self.fieldError(form, error.message || "Dat lukte niet. Probeer het opnieuw.");
      }
    }).catch(function () { self.offline(form); });
  };

  // Offline for a moment: the typed text stays, the button works again.
  Embed.prototype.offline = function (form) {
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = false;
    this.notice("Tribune is even niet bereikbaar. Probeer het zo opnieuw.", true);
  };

  // The new comment in the thread: top-level at the top (oldest first: at the end), a reply
  // at the end of its parent's replies.
  Embed.prototype.place = function (li, section, parentId) {
    var parent = parentId && this.root.getElementById("reactie-" + parentId);
    if (parent) {
      var replies = parent.querySelector(":scope > ol.replies");
      if (!replies) {
        replies = document.createElement("ol");
        replies.className = "replies";
        parent.appendChild(replies);
      }
      replies.appendChild(li);
      return;
    }
    var thread = section.querySelector(":scope > ol.thread");
    if (new URL(this.threadUrl).searchParams.get("volgorde") === "oudste") thread.appendChild(li);
    else thread.insertBefore(li, thread.firstChild);
  };

  // The posted form, emptied and closed (a reply's <details>), its errors gone.
  Embed.prototype.reset = function (form) {
    if (!form) return;
    var fields = form.querySelectorAll("textarea");
    for (var f = 0; f < fields.length; f++) {
      fields[f].value = "";
      fields[f].textContent = "";
      fields[f].removeAttribute("aria-invalid");
      var described = (fields[f].getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && !/-error$/.test(id);
      });
      if (described.length) fields[f].setAttribute("aria-describedby", described.join(" "));
      else fields[f].removeAttribute("aria-describedby");
    }
    var errors = form.querySelectorAll(".form-error");
    for (var e = 0; e < errors.length; e++) errors[e].parentNode.removeChild(errors[e]);
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = false;
    var details = form.closest("details");
    if (details) details.open = false;
  };

  // The thread's <li> of the reader's new comment, from the API's answer: the id (stamped),
  // the time in Brussels words, the text, the edit form's text, and "antwoord op" for a deep
  // reply (depth 3 and more, as pages/_comment.html), no "Antwoorden" from depth 6.
  function fillComment(li, data, marker, parentLi) {
    var time = li.querySelector(".comment-meta time");
    if (time) {
      time.setAttribute("datetime", data.created_at);
      time.textContent = brussels(data.created_at) || time.textContent;
    }
    fillBody(li.querySelector(".comment-body"), data.body);
    var edit = li.querySelector('details[data-form="edit"]');
    if (edit) edit.setAttribute("data-body", data.body);
    var depth = 0;
    for (var up = parentLi; up; up = up.parentNode && up.parentNode.closest ? up.parentNode.closest("li.comment") : null) depth++;
    var replyTo = li.querySelector(".reply-to");
    var parentMeta = parentLi && parentLi.querySelector(":scope > .comment-meta strong");
    if (replyTo) {
      if (depth >= 3 && parentMeta) mark(replyTo, marker, parentMeta.textContent);
      else replyTo.parentNode.removeChild(replyTo);
    }
    var reply = li.querySelector('details[data-form="reply"]');
    if (reply && depth >= 6) reply.parentNode.removeChild(reply);
  }

  // A timestamp as the server's brussels filter writes it: "8 december 2026 om 14:05".
  function brussels(iso) {
    try {
      var parts = {};
      new Intl.DateTimeFormat("nl-BE", {
        timeZone: "Europe/Brussels", day: "numeric", month: "long", year: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
      var two = function (v) { return ("0" + v).slice(-2); };
      return parts.day + " " + parts.month + " " + parts.year + " om " + two(parts.hour) + ":" + two(parts.minute);
    } catch (e) {
      return "";
    }
  }

  // The text as the server's comment_html filter renders it, built as nodes (never as HTML):
  // text, links (http(s) and www., trailing punctuation left out, nofollow ugc) and line breaks.
  var URL_RE = (function () {
    try {  // \b as Python's: no letter, digit or underscore of any script before it
      return new RegExp("(?<![\\p{L}\\p{N}_])(https?://[^\\s<>\"']{1,300}|www\\.[^\\s<>\"']{2,300})", "giu");
    } catch (e) {
      return /\b(https?:\/\/[^\s<>"']{1,300}|www\.[^\s<>"']{2,300})/gi;
    }
  })();

  function fillBody(el, body) {
    if (!el) return;
    el.textContent = "";
    var text = function (chunk) {
      var lines = chunk.split("\n");
      for (var i = 0; i < lines.length; i++) {
        if (i > 0) el.appendChild(document.createElement("br"));
        var t = (i > 0 ? "\n" : "") + lines[i];
        if (t) el.appendChild(document.createTextNode(t));
      }
    };
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(body)) !== null) {
      text(body.slice(last, match.index));
      var url = match[0].replace(/[.,;:!?)]+$/, "");
      var a = document.createElement("a");
      a.setAttribute("href", /^http/i.test(url) ? url : "https://" + url);
      a.setAttribute("rel", "nofollow ugc noopener");
      a.setAttribute("target", "_blank");
      a.textContent = url;
      el.appendChild(a);
      last = match.index + url.length;
    }
    text(body.slice(last));
  }

  // "3 nieuwe reacties": a conditional request; the newer thread waits until asked for.
  Embed.prototype.check = function () {
    var self = this;
    if (!self.etag || document.hidden) return;
    request(withFragment(self.threadUrl), { headers: { "If-None-Match": self.etag } })
      .then(function (response) {
        if (response.status !== 200) return;
        var newTag = response.headers.get("ETag");
        return response.text().then(function (html) {
          var next = self.parse(html);
          var main = self.main();
          var now = main ? parseInt(main.getAttribute("data-count"), 10) || 0 : 0;
          var added = next ? (parseInt(next.getAttribute("data-count"), 10) || 0) - now : 0;
          // Nothing new from others (the reader's own post, put in place already): the thread
          // as shown is current, so its ETag is taken and the next check is a 304 again.
          self.etag = newTag || self.etag;
          if (added <= 0) return;
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
      .catch(function () { /* offline for a moment: the next check tries again */ });
  };

  function reloadAll() {
    return Promise.all(embeds.map(function (e) { return e.reload(); }));
  }

  function noticeAll(text) {
    embeds.forEach(function (e) { e.notice(text, true); });
  }

  // ------------------------------------------------------------ the embed access token

  function accept(answer, quiet) {
    token = answer.access_token;
    clearTimeout(refreshTimer);
    // Refreshed a minute before it expires (at least after half its life).
    var seconds = Math.max(answer.expires_in / 2, answer.expires_in - 60);
    refreshTimer = setTimeout(refresh, seconds * 1000);
    return quiet ? null : reloadAll();
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

  setInterval(function () { embeds.forEach(function (e) { e.check(); }); }, POLL_MS);

  window.Tribune = window.Tribune || {};
  window.Tribune.comments = {
    login: function (ssoToken) { return exchange(ssoToken, false); },
    logout: function () {
      embeds.forEach(function (e) { e.holder.removeAttribute("data-tribune-sso"); });
      return logout();
    },
  };
  // At once (the divs above this script are there already), and again for later ones.
  scan();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
})();
