// A background job's progress page: poll its JSON progress and reload once the job has finished,
// so the server renders the result. Without JavaScript the page says to come back later.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var bar = box.querySelector("[data-progress-bar]");
  var text = box.querySelector("[data-progress-text]");
  var template = box.querySelector("template[data-running-text]");
  function poll() {
    fetch(box.dataset.progressUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (p.finished) { window.location.reload(); return; }
        if (p.total) {
          var percent = Math.floor(p.checked * 100 / p.total);
          bar.style.width = percent + "%";
          bar.parentNode.setAttribute("aria-valuenow", percent);
          if (template && p.status === "running") {
            text.textContent = template.content.textContent.replace("{done}", p.checked).replace("{total}", p.total);
          }
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
});
