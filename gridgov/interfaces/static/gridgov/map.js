/* The grid map: boundaries colored by the chosen measure, case pins, and a card per grid.
   Configuration (data URL, tiles) comes from <script type="application/json" id="map-config">. */
(function () {
  "use strict";
  function esc(s) {
    return String(s === null || s === undefined ? "—" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function start() {
    var node = document.getElementById("map-config");
    if (!node || typeof L === "undefined") { return; }
    var config = JSON.parse(node.textContent);
    var map = L.map("map", { zoomSnap: 0.25, attributionControl: !!config.tiles.attribution });
    config.tiles.layers.forEach(function (url) {
      L.tileLayer(url, { subdomains: config.tiles.subdomains, attribution: config.tiles.attribution, maxZoom: 18 }).addTo(map);
    });
    var card = document.getElementById("grid-card");
    function getJSON(url) {
      // The boundaries are revalidated with their ETag (the browser keeps them between visits).
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); });
    }
    getJSON(config.data_url)
      .then(function (res) {
        if (!res.ok || !res.body.geometry_url) { return res; }
        return getJSON(res.body.geometry_url).then(function (geo) {
          if (!geo.ok) { return geo; }
          var shapes = {};
          geo.body.features.forEach(function (f) { shapes[f.id] = f.geometry; });
          // Figures and boundaries joined by grid id; a grid without a boundary is not drawn.
          res.body.grids.features = res.body.grids.features.filter(function (f) {
            f.geometry = shapes[f.id] || null;
            return f.geometry !== null;
          });
          return res;
        });
      })
      .then(function (res) {
        if (!res.ok) { card.innerHTML = '<p class="error">' + esc(res.body.message) + "</p>"; return; }
        var data = res.body;
        var grids = L.geoJSON(data.grids, {
          style: function (f) { return { color: "#37474f", weight: 1.5, fillColor: f.properties.color, fillOpacity: 0.6 }; },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(esc(p.serial || p.name) + "：" + esc(p.value_text), { sticky: true });
            layer.on("click", function () {
              card.innerHTML =
                "<h2>" + esc(p.name) + "</h2><dl class=\"facts\">" +
                "<dt>网格编号</dt><dd>" + esc(p.serial) + "</dd>" +
                "<dt>网格长</dt><dd>" + esc(p.head) + "</dd>" +
                "<dt>户数</dt><dd>" + esc(p.households) + "</dd>" +
                "<dt>在办事件</dt><dd>" + esc(p.open_cases) + "（超期 " + esc(p.overdue) + "）</dd>" +
                "<dt>" + esc(data.measure.label) + "</dt><dd>" + esc(p.value_text) + "</dd></dl>" +
                '<p><a class="button" href="' + esc(p.dashboard) + '">查看该网格统计</a></p>';
              card.setAttribute("data-grid", String(p.id));
            });
          }
        }).addTo(map);
        var labels = L.layerGroup().addTo(map);
        data.grids.features.forEach(function (f) {
          var layer = L.geoJSON(f);
          var center = layer.getBounds().getCenter();
          L.marker(center, { icon: L.divIcon({ className: "grid-label", html: esc(f.properties.serial || f.properties.name), iconSize: null }), interactive: false }).addTo(labels);
        });
        var pins = L.layerGroup().addTo(map);
        data.pins.forEach(function (p) {
          L.circleMarker([p.lat, p.lng], { radius: 7, weight: 2, color: "#fff", fillColor: p.overdue ? "#c62828" : "#1565c0", fillOpacity: 0.95 })
            .bindPopup("<strong>" + esc(p.number) + "</strong><br>" + esc(p.title) + "<br>" + esc(p.category) + " · " + esc(p.status) + (p.overdue ? " · <span class=\"bad\">已超期</span>" : ""))
            .addTo(pins);
        });
        // Heat: cases reported in the period per ~500 m cell, yellow (few) to dark red (most).
        var heat = L.layerGroup();
        var most = 1;
        data.heat.forEach(function (c) { if (c[2] > most) { most = c[2]; } });
        var ramp = ["#ffeb3b", "#ffc107", "#ff9800", "#f4511e", "#b71c1c"];
        data.heat.forEach(function (c) {
          var pos = c[2] / most;
          L.circle([c[0], c[1]], { radius: 320, stroke: false, fillColor: ramp[Math.min(4, Math.floor(pos * 5))], fillOpacity: 0.25 + 0.5 * pos, interactive: false }).addTo(heat);
        });
        if (data.heat.length) { heat.addTo(map); }
        // Visits: where the period's visits were logged (green dots; off by default).
        var visits = L.layerGroup();
        (data.visits || []).forEach(function (v) {
          L.circleMarker([v[0], v[1]], { radius: 3, stroke: false, fillColor: "#2e7d32", fillOpacity: 0.7, interactive: false }).addTo(visits);
        });
        L.control.layers(null, { "网格": grids, "网格编号": labels, "事件": pins, "事件热力": heat, "走访": visits }, { collapsed: false }).addTo(map);
        if (grids.getLayers().length) { map.fitBounds(grids.getBounds(), { padding: [10, 10] }); } else { map.setView([35, 105], 4); }
        document.getElementById("map-legend").textContent =
          "着色：" + data.measure.label + "（" + data.period + "）。" + (data.measure.code === "households" ? "颜色越深户数越多，灰色无数据。" : "绿色较好，红色较差，灰色无数据。") + "蓝点为在办事件，红点为已超期事件；热力为所选时段登记事件的密度（约500米一格，共 " + data.heat.reduce(function (a, c) { return a + c[2]; }, 0) + " 件有位置）；走访图层（绿点）为所选时段有定位的走访 " + (data.visits || []).length + " 次。口径：" + data.measure.definition + (data.computed_at ? "（数据计算于 " + data.computed_at + "）" : "");
        document.body.setAttribute("data-map", "ready");
      });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
