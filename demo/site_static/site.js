/* Voetbalblad: "Afmelden" also ends the reader's session in Tribune's comments embed. */
(function () {
  "use strict";
  var form = document.getElementById("afmelden");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    var comments = window.Tribune && window.Tribune.comments;
    if (!comments || typeof comments.logout !== "function") return;  // plain form post
    event.preventDefault();
    comments.logout();
    // The embed revokes its session with a request of its own: give it a moment to leave
    // before this page (and the embed's iframe with it) goes away.
    setTimeout(function () { form.submit(); }, 300);
  });
})();
