/* Case pages: the locate button on the new-case form, the on-site check-in on the case page and the
   case map. A static file (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  var locate = document.getElementById("locate");
  if (locate) {
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { alert("此设备不支持定位"); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("lat").value = p.coords.latitude.toFixed(6);
        document.getElementById("lng").value = p.coords.longitude.toFixed(6);
      }, function () { alert("定位失败，请手动选择网格"); }, {enableHighAccuracy: true, timeout: 10000});
    });
  }

  if (document.getElementById("case-on-site")) {
    document.querySelectorAll('form[data-action="self_handle"], form[data-action="feedback"]').forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        var lat = form.querySelector(".checkin-checkin_lat");
        if (!lat || lat.value || !navigator.geolocation) return;
        ev.preventDefault();
        navigator.geolocation.getCurrentPosition(function (p) {
          lat.value = p.coords.latitude.toFixed(6);
          form.querySelector(".checkin-checkin_lng").value = p.coords.longitude.toFixed(6);
          form.submit();
        }, function () { form.submit(); }, {enableHighAccuracy: true, timeout: 10000});
      });
    });
  }

  var el = document.getElementById("map");
  var data = document.getElementById("case-points");
  if (el && data && window.L) {
    var points = JSON.parse(data.textContent);
    var tiles = JSON.parse(document.getElementById("map-tiles").textContent);
    var map = L.map(el, {attributionControl: !!tiles.attribution});
    tiles.layers.forEach(function (url) {
      L.tileLayer(url, {subdomains: tiles.subdomains, attribution: tiles.attribution, maxZoom: 18}).addTo(map);
    });
    var bounds = [];
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lng], {radius: 8, color: p.late ? "#b00020" : "#0b4f9c", fillOpacity: 0.8});
      var a = document.createElement("a"); a.href = p.url; a.textContent = p.number + " " + p.title;
      var box = document.createElement("div"); box.appendChild(a);
      box.appendChild(document.createTextNode(" · " + p.status));
      m.bindPopup(box).addTo(map);
      bounds.push([p.lat, p.lng]);
    });
    if (bounds.length) { map.fitBounds(bounds, {padding: [20, 20], maxZoom: 16}); } else { map.setView([35, 110], 4); }
  }
})();
