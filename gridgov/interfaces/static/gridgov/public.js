/* Residents' pages. Everything works without this file; it only helps on a phone:
   shrinks photos before upload (a weak signal carries 200 KB, not 5 MB), fills in the
   position, and stops a second tap from sending the form twice. No inline script: the CSP forbids it. */
(function () {
  "use strict";
  var MAX_SIDE = 1280, QUALITY = 0.72, MAX_FILES = 3;

  function $(id) { return document.getElementById(id); }
  function say(el, text) { if (el) { el.textContent = text; } }

  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });

  var locate = $("locate");
  if (locate && navigator.geolocation) {
    locate.addEventListener("click", function () {
      var status = $("locate-status");
      say(status, "正在定位，请稍候……");
      navigator.geolocation.getCurrentPosition(function (pos) {
        $("lat").value = pos.coords.latitude.toFixed(6);
        $("lng").value = pos.coords.longitude.toFixed(6);
        say(status, "已定位。");
      }, function () {
        say(status, "没能定位，请填写地址。");
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  // Drop a pin: Leaflet and the base map are fetched only when the resident asks for the map.
  var pin = $("pin"), pinConfig = $("pin-config");
  if (pin && pinConfig) {
    pin.addEventListener("click", function () {
      var config = JSON.parse(pinConfig.textContent), box = $("pin-map"), marker = null;
      pin.disabled = true;
      say(pin, "正在打开地图……");
      var css = document.createElement("link");
      css.rel = "stylesheet"; css.href = config.css;
      document.head.appendChild(css);
      var js = document.createElement("script");
      js.src = config.js;
      js.onload = function () {
        box.hidden = false;
        pin.hidden = true;
        var map = L.map(box).setView(config.center, config.zoom);
        config.tiles.layers.forEach(function (url) {
          L.tileLayer(url, { subdomains: config.tiles.subdomains, attribution: config.tiles.attribution, maxZoom: 18 }).addTo(map);
        });
        map.on("click", function (e) {
          $("lat").value = e.latlng.lat.toFixed(6);
          $("lng").value = e.latlng.lng.toFixed(6);
          if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
          say($("locate-status"), "已在地图上选好位置。");
        });
      };
      js.onerror = function () { pin.disabled = false; say(pin, "地图没能打开，请填写地址"); };
      document.head.appendChild(js);
    });
  }

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\//.test(file.type) || !window.HTMLCanvasElement) { resolve(file); return; }
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () {
        var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.naturalWidth * scale);
        canvas.height = Math.round(img.naturalHeight * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          resolve(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        }, "image/jpeg", QUALITY);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }

  var photos = $("photos"), form = $("report"), busy = false;
  if (photos && window.DataTransfer && window.Promise) {
    photos.addEventListener("change", function () {
      var status = $("photo-status"), files = Array.prototype.slice.call(photos.files, 0, MAX_FILES);
      if (photos.files.length > MAX_FILES) { say(status, "最多 3 张，只保留了前 3 张。"); }
      if (!files.length) { return; }
      busy = true;
      say(status, "正在压缩照片……");
      Promise.all(files.map(shrink)).then(function (small) {
        var dt = new DataTransfer(), total = 0;
        small.forEach(function (f) { dt.items.add(f); total += f.size; });
        photos.files = dt.files;
        say(status, "已选 " + small.length + " 张照片（共 " + Math.max(1, Math.round(total / 1024)) + " KB）。");
      }).catch(function () {
        say(status, "已选 " + files.length + " 张照片。");
      }).then(function () { busy = false; });
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("button[type=submit]");
      if (busy || (button && button.disabled)) { event.preventDefault(); return; }
      if (button) { button.disabled = true; button.textContent = "正在提交，请稍候……"; }
    });
  }
}());
