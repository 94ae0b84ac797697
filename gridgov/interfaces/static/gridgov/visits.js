/* The record-a-visit form: fill the position on request, and keep a second tap from sending the form
   twice while a weak signal is still carrying the first (the idempotency key makes a retry safe anyway).
   A static file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  var locate = document.getElementById("visit-locate");
  if (locate) {
    locate.addEventListener("click", function () {
      var status = document.getElementById("visit-locate-status");
      if (!navigator.geolocation) { status.textContent = "此手机不支持定位，可不填。"; return; }
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("lat").value = p.coords.latitude.toFixed(6);
        document.getElementById("lng").value = p.coords.longitude.toFixed(6);
        status.textContent = "已记录位置。";
      }, function () { status.textContent = "定位失败，可不填。"; }, {enableHighAccuracy: true, timeout: 15000});
    });
  }
  var form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.textContent = "正在提交…（信号差时请稍候，不会重复记录）";
        window.setTimeout(function () { button.disabled = true; }, 0);
        // After 20 s the worker may press again: the same key returns the same visit.
        window.setTimeout(function () { button.disabled = false; button.textContent = "重新提交"; }, 20000);
      }
    });
  }
})();
