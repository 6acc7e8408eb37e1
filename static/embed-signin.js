/* The sign-in popup of the comments embed (/embed/aanmelden, first-party): asks POST
 * /embed/sessie for an embed token with the session cookie and CSRF token, hands it to the
 * host page that opened this window (window.opener) with targetOrigin = the host origin the
 * server checked against EMBED_ALLOWED_ORIGINS (data-host-origin), and closes. */
(function () {
  "use strict";
  var page = document.getElementById("tribune-signin");
  var status = document.getElementById("status");
  var closer = document.getElementById("close");
  if (!page) return;
  function fail(text) {
    status.textContent = text;
    status.setAttribute("role", "alert");
    closer.hidden = false;
  }
  closer.addEventListener("click", function () { window.close(); });
  if (!window.opener) {
    return fail("Je bent aangemeld. Ga terug naar het artikel en laad de pagina opnieuw om te reageren.");
  }
  fetch(page.getAttribute("data-session-url"), {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": page.getAttribute("data-csrf"), Accept: "application/json" },
  }).then(function (response) {
    if (!response.ok) throw new Error("status " + response.status);
    return response.json();
  }).then(function (answer) {
    window.opener.postMessage({
      type: "tribune:token", access_token: answer.access_token, expires_in: answer.expires_in,
    }, page.getAttribute("data-host-origin"));
    status.textContent = "Aangemeld. Dit venster sluit.";
    window.close();
  }).catch(function () {
    fail("Aanmelden voor de reacties lukte niet. Sluit dit venster en probeer opnieuw.");
  });
})();
