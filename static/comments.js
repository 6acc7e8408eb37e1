/* Tribune comments embed (host side): every <div data-tribune-comments="ARTICLE_ID"> becomes an
 * auto-sizing iframe of /embed/comments/<id> (docs/embed.md). Messages are taken only from the
 * Tribune origin this script came from and from one of our iframes; a token is posted only to
 * that origin. Optional on the div: data-tribune-sso (a signed SSO token), data-title,
 * data-url. window.Tribune.comments.login(token) / .logout() for single-page sites. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src*="/static/comments.js"]');
  if (!script) return;
  var base = new URL(script.src, location.href).origin;
  var frames = [];
  var ssoToken = null;  // from login(): wins over the divs' attribute

  function send(frame, message) {
    if (frame.ready) frame.iframe.contentWindow.postMessage(message, base);
  }

  function mount(holder) {
    var id = holder.getAttribute("data-tribune-comments");
    if (holder.getAttribute("data-tribune-mounted") || !/^[A-Za-z0-9_-]{1,64}$/.test(id || "")) return;
    holder.setAttribute("data-tribune-mounted", "1");
    var canonical = document.querySelector('link[rel="canonical"]');
    var query = "?origin=" + encodeURIComponent(location.origin) +
      "&title=" + encodeURIComponent(holder.getAttribute("data-title") || document.title) +
      "&url=" + encodeURIComponent(holder.getAttribute("data-url") ||
        (canonical && canonical.href) || location.href.split("#")[0]);
    var iframe = document.createElement("iframe");
    iframe.src = base + "/embed/comments/" + id + query;
    iframe.title = "Reacties";
    iframe.setAttribute("scrolling", "no");
    iframe.style.cssText = "width:100%;border:0;height:320px;display:block";
    holder.appendChild(iframe);
    frames.push({ iframe: iframe, holder: holder, article: id, ready: false });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || !event.data || typeof event.data.type !== "string") return;
    var data = event.data;
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.iframe.contentWindow !== event.source) continue;
      if (data.type === "tribune:ready") {
        frame.ready = true;
        var token = ssoToken || frame.holder.getAttribute("data-tribune-sso");
        if (token) send(frame, { type: "tribune:sso", token: token });
      } else if (data.type === "tribune:height" && typeof data.height === "number") {
        frame.iframe.style.height = Math.max(120, Math.min(20000, Math.ceil(data.height))) + "px";
      } else if (data.type === "tribune:count" && data.article === frame.article &&
                 typeof data.comments === "number" && window.TribuneCounts &&
                 window.TribuneCounts.set) {
        window.TribuneCounts.set(frame.article, data.comments);
      }
    }
  });

  function scan() {
    var holders = document.querySelectorAll("[data-tribune-comments]");
    for (var i = 0; i < holders.length; i++) mount(holders[i]);
  }

  window.Tribune = window.Tribune || {};
  window.Tribune.comments = {
    login: function (token) {
      ssoToken = String(token);
      frames.forEach(function (f) { send(f, { type: "tribune:sso", token: ssoToken }); });
    },
    logout: function () {
      ssoToken = null;
      frames.forEach(function (f) {
        f.holder.removeAttribute("data-tribune-sso");
        send(f, { type: "tribune:logout" });
      });
    },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
