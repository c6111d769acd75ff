// Comfort only on the patient's check-in page: fills the location from the phone's GPS.
// Without this script (or without permission) the patient types it; the server treats a
// typed location as imprecise.
(function () {
  "use strict";
  var button = document.getElementById("checkin-locate");
  var form = document.getElementById("checkin-form");
  if (!button || !form || !("geolocation" in navigator)) { return; }
  var status = document.getElementById("location-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var accuracy = document.getElementById("accuracy_m");
  var located = false;

  function locate(then) {
    status.textContent = button.dataset.busy;
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      accuracy.value = String(Math.round(pos.coords.accuracy));
      located = true;
      status.textContent = button.dataset.done.replace("%m%", accuracy.value);
      if (then) { then(); }
    }, function () {
      status.textContent = button.dataset.failed;
      if (then) { then(); }
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  }

  button.hidden = false;
  button.addEventListener("click", function () { locate(); });
  // A hand-typed position has no measured accuracy: clear the one a fix left behind.
  [lat, lon].forEach(function (input) {
    input.addEventListener("input", function () { accuracy.value = ""; located = false; });
  });
  // Sending without a location: ask the phone first, then send whatever there is.
  form.addEventListener("submit", function (event) {
    if (located || (lat.value && lon.value)) { return; }
    event.preventDefault();
    locate(function () { form.submit(); });
  });
})();
