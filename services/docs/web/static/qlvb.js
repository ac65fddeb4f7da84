// Small behaviours the pages share; everything works without them (plain forms and links).
(function () {
  "use strict";
  document.documentElement.classList.add("scripted");
  // A date field (typed day first, hours:minutes after it when it holds a time) gets a
  // calendar: the browser's picker, whose answer is written back day first.
  function pad(value) { return value.length === 1 ? "0" + value : value; }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-calendar]") : null;
    if (!button) { return; }
    var field = button.parentElement.querySelector("input[data-date]");
    var picker = button.parentElement.querySelector("input.date-picker");
    var typed = /^(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})(?: (\d{1,2}):(\d{2}))?$/.exec(field.value.trim());
    var iso = typed ? typed[3] + "-" + pad(typed[2]) + "-" + pad(typed[1]) : "";
    if (iso && picker.type === "datetime-local") {
      iso += "T" + (typed[4] ? pad(typed[4]) + ":" + typed[5] : "08:00");
    }
    picker.value = iso;
    try { picker.showPicker(); } catch (error) { field.focus(); }
  });
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("input.date-picker") || !picker.value) { return; }
    var chosen = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}:\d{2}))?/.exec(picker.value);
    if (!chosen) { return; }
    var field = picker.parentElement.querySelector("input[data-date]");
    field.value = chosen[3] + "/" + chosen[2] + "/" + chosen[1] + (chosen[4] ? " " + chosen[4] : "");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
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
  // A button marked data-print prints the page (the register books).
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("[data-print]")) { window.print(); }
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
  // A request whose answer lands inside the page (an import report) leaves its form in place:
  // its buttons come back once the answer is in.
  document.addEventListener("htmx:afterRequest", function (event) {
    document.body.classList.remove("busy");
    var form = event.target.closest ? event.target.closest("form") : null;
    if (form && document.body.contains(form)) {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    }
  });
  // Uploads in a form marked data-progress show how much has been sent.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-progress]") : null;
    var bar = form ? form.querySelector("progress[data-upload-progress]") : null;
    if (bar && event.detail.lengthComputable && event.detail.total) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  // After a new page comes in, focus moves to its main part (screen readers read it), unless
  // the person is already in one of its fields: typing must not lose its field.
  document.addEventListener("htmx:afterSettle", function () {
    document.body.classList.remove("busy");
    var main = document.getElementById("main");
    var active = document.activeElement;
    var typing = active && active.matches && active.matches("input, textarea, select");
    if (main && !typing) { main.focus({ preventScroll: true }); }
  });
})();
