/* Charts of the dashboard and the wall screen. Data comes from the <script type="application/json"
   id="board-data"> block (the CSP allows no inline script). */
(function () {
  "use strict";
  function start() {
    var node = document.getElementById("board-data");
    if (!node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var dark = document.body.classList.contains("screen");
    var text = dark ? "#e3f2fd" : "#1f2933";
    var base = { textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif", color: text }, animation: false };
    var charts = [];
    function draw(id, option) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var chart = echarts.init(el, dark ? "dark" : null, { renderer: "canvas" });
      if (dark) { option.backgroundColor = "transparent"; }
      chart.setOption(Object.assign({}, base, option));
      charts.push(chart);
    }
    function empty(values) { return !values || values.length === 0; }
    var noData = { title: { text: "本时段无数据", left: "center", top: "middle", textStyle: { color: "#888", fontSize: 16 } } };
    draw("chart-category", empty(data.category.values) ? noData : {
      grid: { left: 8, right: 24, top: 10, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.category.names.slice().reverse(), axisLabel: { color: text } },
      series: [{ type: "bar", data: data.category.values.slice().reverse(), itemStyle: { color: "#1565c0" },
                 label: { show: true, position: "right", color: text } }]
    });
    draw("chart-channel", empty(data.channel) ? noData : {
      tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
      legend: { bottom: 0, textStyle: { color: text } },
      series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], data: data.channel,
                 label: { formatter: "{b}\n{c}", color: text } }]
    });
    draw("chart-days", {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0, left: "center", data: ["登记", "办结"], textStyle: { color: text } },
      xAxis: { type: "category", data: data.days.dates, axisLabel: { color: text } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "登记", type: "line", data: data.days.reported, itemStyle: { color: "#1565c0" } },
        { name: "办结", type: "line", data: data.days.closed, itemStyle: { color: "#2e7d32" } }
      ]
    });
    draw("chart-ranking", empty(data.ranking.names) ? noData : {
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.ranking.names, axisLabel: { color: text, interval: 0, rotate: data.ranking.names.length > 8 ? 30 : 0 } },
      yAxis: { type: "value", name: data.ranking.label, nameTextStyle: { color: text, align: "left", fontSize: 13 } },
      series: [{ type: "bar", data: data.ranking.values, itemStyle: { color: "#ef6c00" },
                 label: { show: true, position: "top", color: text } }]
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.setAttribute("data-charts", String(charts.length));
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
