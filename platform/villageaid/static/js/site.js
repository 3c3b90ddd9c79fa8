// Cascading division selects: a <select data-children-of="#parent"> reloads its options
// from /regions/<code>/children when its parent changes. Without JavaScript the server
// fills the options after a submit, so the form still works.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-children-of]").forEach(function (child) {
    var parent = document.querySelector(child.dataset.childrenOf);
    if (!parent) { return; }
    parent.addEventListener("change", function () {
      var blank = child.dataset.blank || "";
      child.innerHTML = "";
      child.add(new Option(blank, ""));
      child.dispatchEvent(new Event("change"));
      if (!parent.value) { return; }
      fetch("/regions/" + encodeURIComponent(parent.value) + "/children")
        .then(function (r) { return r.json(); })
        .then(function (rows) {
          rows.forEach(function (row) { child.add(new Option(row.name, row.code)); });
        });
    });
  });
});
