// The 10·17 countdown: the server renders the days left; this adds a live hours/minutes/seconds clock
// to 00:00 Beijing time on the day (data-target is that instant with its offset). It stops at zero;
// the next page load says it is the day.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-countdown]");
  var clock = box && box.querySelector("[data-countdown-clock]");
  var format = box && box.querySelector("template[data-clock-format]");
  if (!clock || !format) { return; }
  var target = Date.parse(box.dataset.target);
  if (isNaN(target)) { return; }
  function tick() {
    var left = Math.max(0, Math.floor((target - Date.now()) / 1000));
    var text = format.content.textContent
      .replace("{d}", Math.floor(left / 86400))
      .replace("{h}", Math.floor(left / 3600) % 24)
      .replace("{m}", Math.floor(left / 60) % 60)
      .replace("{s}", left % 60);
    clock.textContent = text;
    clock.hidden = false;
    if (left > 0) { window.setTimeout(tick, 1000); }
  }
  tick();
});
