// Files built on request (archive packages, reports, exports) take a while and leave the page
// where it is: the link says it is working, cannot be pressed twice, and comes back when the
// file has arrived. The server sets the link's one-off token as a cookie with the file
// (web/downloads.py). Without this script the links are plain downloads.
(function () {
  "use strict";
  var COOKIE = "qlvb_download";
  var LOOK_EVERY_MS = 400;
  // A download the browser never reports (cancelled, blocked) frees the link after this long.
  var GIVE_UP_MS = 15 * 60 * 1000;

  function newToken() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function arrived(token) {
    return document.cookie.split("; ").indexOf(COOKIE + "=" + token) !== -1;
  }

  function statusOf(link) {
    var box = link.closest("[data-downloads]");
    return box ? box.querySelector("[data-download-status]") : null;
  }

  function finish(link, label, done) {
    document.cookie = COOKIE + "=; Max-Age=0; path=/";
    link.removeAttribute("aria-busy");
    link.removeAttribute("aria-disabled");
    link.classList.remove("is-busy");
    link.textContent = label;
    document.body.classList.remove("busy");
    var status = statusOf(link);
    if (status) { status.textContent = done ? (link.dataset.doneLabel || "") : ""; }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-download]") : null;
    if (!link) { return; }
    if (link.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    // A new tab or window, or a saved link: the browser's own ways.
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    var token = newToken();
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("download", token);
    var label = link.textContent;
    link.setAttribute("aria-busy", "true");
    link.setAttribute("aria-disabled", "true");
    link.classList.add("is-busy");
    if (link.dataset.busyLabel) { link.textContent = link.dataset.busyLabel; }
    document.body.classList.add("busy");
    var status = statusOf(link);
    if (status) { status.textContent = link.dataset.busyLabel || ""; }
    var started = Date.now();
    var timer = window.setInterval(function () {
      if (arrived(token)) {
        window.clearInterval(timer);
        finish(link, label, true);
      } else if (Date.now() - started > GIVE_UP_MS) {
        window.clearInterval(timer);
        finish(link, label, false);
      }
    }, LOOK_EVERY_MS);
    // A file keeps this page; a failure comes back as a page explaining it.
    window.location.assign(url.toString());
  });
})();
