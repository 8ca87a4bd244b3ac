// casetracker: keep keyboard users where the new content appeared.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (target && target.id === "step-panel") {
    var field = target.querySelector("input:not([type=hidden]), select, textarea");
    if (field) { field.focus(); }
  }
});

// A request that got no answer from the application (the network dropped,
// or a proxy in front answered 502/504 because the application is down)
// says so in the message area, instead of the click doing nothing. The
// application's own errors arrive as messages already (complaints/views/errors.py).
function showProblem(kind, status) {
  var area = document.getElementById("messages");
  if (!area) { return; }
  var alert = document.createElement("div");
  alert.className = "alert alert-warning py-2";
  alert.setAttribute("role", "alert");
  alert.dataset.error = kind;
  alert.textContent = (area.dataset[kind] || "").replace("{status}", status || "");
  area.replaceChildren(alert);
}
document.addEventListener("htmx:sendError", function () { showProblem("unreachable"); });
document.addEventListener("htmx:responseError", function (event) {
  showProblem("failed", event.detail.xhr ? event.detail.xhr.status : "");
});

// Forms carry the CSRF token of the current log-in (its cookie), not the
// one the page was drawn with: after the session ended and the user logged
// in again in another tab, the form they had typed can still be sent
// (complaints/views/errors.py, SessionEnded), through htmx or as a page.
function csrfCookie() {
  var name = document.body.dataset.csrfCookie || "csrftoken";  // CSRF_COOKIE_NAME
  var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return match ? decodeURIComponent(match[1]) : "";
}
document.addEventListener("htmx:configRequest", function (event) {
  var token = csrfCookie();
  if (!token) { return; }
  event.detail.headers["X-CSRFToken"] = token;
  if (event.detail.parameters.csrfmiddlewaretoken !== undefined) {
    event.detail.parameters.csrfmiddlewaretoken = token;
  }
});
document.addEventListener("submit", function (event) {
  var token = csrfCookie();
  var field = event.target.querySelector ? event.target.querySelector("input[name=csrfmiddlewaretoken]") : null;
  if (token && field) { field.value = token; }
}, true);
