// Needs pages: show only the detail fields that belong to the chosen unit (jobs, goods), and copy
// the share link. Without JavaScript every fieldset stays visible and the form still works.
document.addEventListener("DOMContentLoaded", function () {
  var unit = document.getElementById("unit");
  var groups = document.querySelectorAll("[data-unit-fields]");
  function sync() {
    groups.forEach(function (group) {
      group.hidden = unit.value !== group.dataset.unitFields;
    });
  }
  if (unit && groups.length) {
    unit.addEventListener("change", sync);
    sync();
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.dataset.copy);
      if (!input) { return; }
      input.select();
      var done = function () { button.textContent = button.dataset.copied || button.textContent; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
});
