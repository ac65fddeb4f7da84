// Small behaviours the pages share; everything works without them (plain forms and links).
(function () {
  "use strict";
  // Failed requests show their page (a clear message in Vietnamese), not nothing.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: false },
      ];
    }
  });
  // A select marked data-autosubmit sends its form when changed (the agency switcher).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]")) {
      target.form.requestSubmit();
    }
  });
  // Long work (uploads, signing, issuing): the button says so and cannot be pressed twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    document.body.classList.add("busy");
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (button) {
      button.dataset.label = button.textContent;
      setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.body.classList.remove("busy");
    var main = document.getElementById("main");
    if (main) { main.focus({ preventScroll: true }); }
  });
})();
