/* Tribune comments embed, the writing half (docs/embed.md): loaded by static/comments.js only
 * once a reader is signed in, so an anonymous reader never downloads it. It adds to comments.js's
 * Embed the JSON API calls of a signed-in reader: posting and replying
 * (POST /api/v1/articles/<id>/comments), editing (PATCH /api/v1/comments/<id>), reporting
 * (POST …/reports) and appealing (POST …/appeal), with comments.js's bearer token (its
 * `request`), and puts the outcome in place from the answer and the fragment's server-rendered
 * <template>s (embed/_form_templates.html): never innerHTML with a reader's text. */
(function () {
  "use strict";
  var hook = window.Tribune && window.Tribune.comments && window.Tribune.comments._install;
  if (!hook) return;
  hook(function (Embed, lib) {
  var base = lib.base;
  var request = lib.request;
  var refused = lib.refused;

  // Which writes go to the API: true when this form was taken (comments.js sends any other
  // form to its route). The templates must be there (a signed-in reader's fragment).
  Embed.prototype.write = function (form, path) {
    if (/^\/embed\/comments\/[^/]+\/reacties$/.test(path)) {
      if (!this.root.getElementById("vorm-comment")) return false;
      this.post(form);
      return true;
    }
    var own = /^\/embed\/comments\/reacties\/([0-9]+)\/(bewerken|melden|bezwaar)$/.exec(path);
    var words = { bewerken: "vorm-edit", melden: "vorm-report", bezwaar: "vorm-rejected" };
    if (!own || !this.root.getElementById(words[own[2]])) return false;
    if (own[2] === "bewerken") this.edit(form, own[1]);
    else if (own[2] === "melden") this.report(form, own[1]);
    else this.appeal(form, own[1]);
    return true;
  };

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

  // "Sterk" (pages/_reaction.html's button, data-sterk): POST or DELETE
  // /api/v1/comments/<id>/reactions, and the button toggles in place from the answer; a
  // refusal (suspended, the comment gone) as a notice on top.
  var click = Embed.prototype.click;
  Embed.prototype.click = function (event) {
    var button = event.target.closest ? event.target.closest("button[data-sterk]") : null;
    if (!button) return click.call(this, event);
    event.preventDefault();
    this.react(button);
  };

  Embed.prototype.react = function (button) {
    var self = this;
    var id = button.getAttribute("data-sterk");
    if (!/^[0-9]{1,18}$/.test(id)) return;
    var give = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    return send(give ? "POST" : "DELETE", "/api/v1/comments/" + id + "/reactions", {}).then(function (answer) {
      var error = answer.data.error || {};
      button.disabled = false;
      if (answer.status === 200 || answer.status === 201) {
        var given = !!answer.data.reacted;
        button.setAttribute("aria-pressed", given ? "true" : "false");
        button.setAttribute("aria-label", "Sterk, " + answer.data.reaction_count + " keer gegeven");
        button.title = given ? "Je Sterk intrekken" : "Geef deze reactie een Sterk";
        button.querySelector(".reaction-count").textContent = String(answer.data.reaction_count);
      } else if (answer.status === 401) {
        refused(new Error(error.message || "Meld je opnieuw aan."));
      } else {
        self.announce(error.message || "Dat lukte niet. Probeer het opnieuw.", true);
      }
    }).catch(function () {
      button.disabled = false;
      self.notice("Tribune is even niet bereikbaar. Probeer het zo opnieuw.", true);
    });
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

  });
})();
