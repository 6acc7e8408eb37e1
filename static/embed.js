/* Tribune poll embed: turns every <div data-tribune-poll="ID"></div> into an iframe that
 * resizes to its content. Height messages are accepted only from the Tribune origin this
 * script came from, and only from one of our own iframes. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[src*="/static/embed.js"]');
  if (!script) return;
  var base = new URL(script.src, window.location.href).origin;
  var frames = [];

  function mount(holder) {
    if (holder.getAttribute("data-tribune-mounted")) return;
    var id = holder.getAttribute("data-tribune-poll");
    if (!/^[0-9]{1,12}$/.test(id || "")) return;
    holder.setAttribute("data-tribune-mounted", "1");
    var iframe = document.createElement("iframe");
    iframe.src = base + "/embed/polls/" + id + "?origin=" + encodeURIComponent(window.location.origin);
    iframe.title = "Peiling";
    iframe.setAttribute("loading", "lazy");
    iframe.setAttribute("scrolling", "no");
    iframe.style.width = "100%";
    iframe.style.border = "0";
    iframe.style.height = "360px";
    iframe.style.display = "block";
    iframe.addEventListener("load", function () {
      iframe.contentWindow.postMessage({ type: "tribune:poll:v1:ping" }, base);
    });
    holder.appendChild(iframe);
    frames.push(iframe);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base) return;
    var data = event.data;
    if (!data || data.type !== "tribune:poll:v1:height" || typeof data.height !== "number") return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        var height = Math.max(80, Math.min(4000, Math.ceil(data.height)));
        frames[i].style.height = height + "px";
      }
    }
  });

  function scan() {
    var holders = document.querySelectorAll("[data-tribune-poll]");
    for (var i = 0; i < holders.length; i++) mount(holders[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
