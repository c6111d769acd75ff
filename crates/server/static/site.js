// Comfort only: every page works without this script.
(function () {
  "use strict";

  // A countdown beside "valid until" on a pass page.
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick(el) {
    var left = Math.max(0, Math.floor((Date.parse(el.dataset.until) - Date.now()) / 1000));
    var text = Math.floor(left / 3600) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
    el.textContent = el.dataset.label.replace(/\{\s*\$time\s*\}|\S*\$time\S*/, text);
    if (el.dataset.label.indexOf("$time") < 0) { el.textContent = el.dataset.label + " " + text; }
  }
  document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
    el.dataset.label = el.dataset.label || "";
    tick(el);
    setInterval(function () { tick(el); }, 1000);
  });

  // "Use my phone's location" on the profile page.
  var locate = document.getElementById("locate");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
      });
    });
  }

  // The print page's button (hidden without this script: the browser's menu prints too).
  var print = document.getElementById("print");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }

  // Move focus to an error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
