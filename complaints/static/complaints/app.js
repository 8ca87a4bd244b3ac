// casetracker: keep keyboard users where the new content appeared.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (target && target.id === "step-panel") {
    var field = target.querySelector("input:not([type=hidden]), select, textarea");
    if (field) { field.focus(); }
  }
});
