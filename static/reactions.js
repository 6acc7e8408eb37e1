/* "Sterk" on the article page without a reload: the reaction forms of pages/_reaction.html go
 * to the JSON API (POST or DELETE /api/v1/comments/<id>/reactions, the session cookie, JSON and
 * this site's Origin) and the button toggles in place from the answer. Without this script,
 * or when the API refuses, the form posts as it is and the page explains. */
(function () {
  "use strict";
  if (!window.fetch || !document.addEventListener) return;

  function show(form, data) {
    var button = form.querySelector("button.sterk");
    var given = !!data.reacted;
    button.setAttribute("aria-pressed", given ? "true" : "false");
    button.setAttribute("aria-label", "Sterk, " + data.reaction_count + " keer gegeven");
    button.title = given ? "Je Sterk intrekken" : "Geef deze reactie een Sterk";
    button.querySelector(".reaction-count").textContent = String(data.reaction_count);
    var wanted = form.querySelector('input[name="sterk"]');
    if (wanted) wanted.value = given ? "0" : "1";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.reaction[data-reaction]")) return;
    var id = form.getAttribute("data-reaction");
    if (!/^[0-9]{1,18}$/.test(id)) return;
    event.preventDefault();
    var button = form.querySelector("button.sterk");
    var give = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    fetch("/api/v1/comments/" + id + "/reactions", {
      method: give ? "POST" : "DELETE",
      headers: give ? { "Content-Type": "application/json" } : {},
      body: give ? "{}" : undefined,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        button.disabled = false;
        if (response.status === 200 || response.status === 201) show(form, data);
        else form.submit();  // the server's page says why (signed out, suspended, gone)
      });
    }).catch(function () {
      button.disabled = false;
      form.submit();
    });
  });
})();
