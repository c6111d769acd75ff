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

  // "Save as an image": one picture with the QR code and what the police compare (without
  // this script the link downloads the QR code alone).
  var save = document.getElementById("save-image");
  if (save && window.fetch && window.createImageBitmap && HTMLCanvasElement.prototype.toBlob) {
    save.addEventListener("click", function (event) {
      event.preventDefault();
      fetch(save.href, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.blob(); })
        .then(createImageBitmap)
        .then(function (qr) {
          var width = 800, pad = 40, size = width - 2 * pad, line = 34;
          var lines = save.dataset.lines.split("\n");
          var canvas = document.createElement("canvas");
          canvas.width = width;
          canvas.height = pad + 50 + size + 20 + lines.length * line + pad;
          var g = canvas.getContext("2d");
          g.fillStyle = "#fff";
          g.fillRect(0, 0, canvas.width, canvas.height);
          g.fillStyle = "#0b0c0c";
          g.font = "bold 30px system-ui, sans-serif";
          g.fillText(save.dataset.title, pad, pad + 30, size);
          g.imageSmoothingEnabled = false;
          g.drawImage(qr, pad, pad + 50, size, size);
          g.font = "26px system-ui, sans-serif";
          lines.forEach(function (text, i) { g.fillText(text, pad, pad + 50 + size + 20 + (i + 1) * line - 8, size); });
          canvas.toBlob(function (png) {
            var a = document.createElement("a");
            a.href = URL.createObjectURL(png);
            a.download = save.getAttribute("download");
            document.body.appendChild(a);
            a.click();
            setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
          }, "image/png");
        })
        .catch(function () { window.location.href = save.href; });
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
