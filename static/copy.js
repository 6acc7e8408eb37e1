/* Copy buttons (progressive enhancement): a button[data-copy="<id>"] copies the text of the
   element with that id. The buttons are hidden in the HTML and shown only here, so without
   JavaScript nobody sees a button that does nothing. Without the clipboard API (plain HTTP,
   an old browser, a refused permission) the text is selected for Ctrl+C instead. */
(function () {
  'use strict';

  function selectAll(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var status = button.parentNode.querySelector('.copy-status');
    if (status) { status.textContent = text; }
  }

  function fallback(button, source) {
    selectAll(source);
    say(button, 'Geselecteerd: druk Ctrl+C (of ⌘+C) om te kopiëren.');
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) { return; }
    var text = source.textContent;
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback(button, source);
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      say(button, 'Gekopieerd.');
    }, function () {
      fallback(button, source);
    });
  }

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () { copy(button); });
  });
}());
