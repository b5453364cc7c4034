// The pages' only script of our own: says when a request failed or live updates stopped, so a
// screen left open never looks live while it is not. Everything else is htmx attributes.
(function () {
  "use strict";

  function show(id, text) {
    var el = document.getElementById(id);
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  function reason(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && typeof body.detail === "string") return body.detail;
    } catch (e) {
      /* not JSON: fall through */
    }
    return "the server answered " + xhr.status;
  }

  document.addEventListener("htmx:responseError", function (event) {
    show("page-alert", "That did not work: " + reason(event.detail.xhr) + ".");
  });
  document.addEventListener("htmx:sendError", function () {
    show("page-alert", "The workbench did not answer. Check the connection and try again.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) show("page-alert", "");
  });
  document.addEventListener("htmx:sseOpen", function () {
    show("live", "updating live");
    document.getElementById("live").classList.remove("paused");
  });
  document.addEventListener("htmx:sseError", function () {
    show("live", "live updates paused: reconnecting");
    document.getElementById("live").classList.add("paused");
  });
})();
