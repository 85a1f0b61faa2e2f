// Charts page (charts_page.py): fetch /charts/data for the chosen range and draw four ECharts.
// CSP: no inline handlers, canvas renderer, tooltips rendered in the canvas (richText: no inline styles).
(function () {
  "use strict";
  var form = document.getElementById("range");
  if (!form || typeof echarts === "undefined") { return; }
  var RED = "#f53f3f", BLUE = "#165dff", GREEN = "#00b42a";
  var q = "range=" + encodeURIComponent(form.dataset.range) + "&start=" + encodeURIComponent(form.dataset.start) +
          "&end=" + encodeURIComponent(form.dataset.end);
  function chart(id) { return echarts.init(document.getElementById(id), null, { renderer: "canvas" }); }
  var tip = { trigger: "axis", renderMode: "richText" };
  function draw(d) {
    var L = d.labels, floor = d.floor;
    var trend = chart("c-trend");
    trend.setOption({
      animation: false, tooltip: tip, legend: { data: [L.finished, L.bad, L.good_rate] },
      grid: { left: 50, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: d.trend.x },
      yAxis: [{ type: "value", name: L.count }, { type: "value", name: "%", min: function (v) { return Math.max(0, Math.floor(Math.min(v.min, floor) - 5)); }, max: 100 }],
      series: [
        { name: L.finished, type: "bar", data: d.trend.finished, itemStyle: { color: BLUE } },
        { name: L.bad, type: "bar", data: d.trend.bad, itemStyle: { color: RED } },
        { name: L.good_rate, type: "line", yAxisIndex: 1, data: d.trend.good_rate.map(function (v) {
            return { value: v, itemStyle: { color: v !== null && v < floor ? RED : GREEN }, symbolSize: v !== null && v < floor ? 10 : 5 };
          }), lineStyle: { color: GREEN }, markLine: { silent: true, symbol: "none", lineStyle: { color: RED, type: "dashed" },
          data: [{ yAxis: floor, name: L.floor }], label: { formatter: L.floor + " " + floor + "%" } } }
      ]
    });
    var reasons = chart("c-reasons");
    reasons.setOption({
      animation: false, tooltip: { trigger: "item", renderMode: "richText" },
      title: d.reasons.length ? undefined : { text: L.none, left: "center", top: "middle", textStyle: { color: "#86909c", fontSize: 14 } },
      series: [{ type: "pie", radius: ["35%", "65%"], data: d.reasons, label: { formatter: "{b}\n{c}" },
                 color: ["#f53f3f", "#ff7d00", "#f7ba1e", "#d91ad9", "#722ed1", "#86909c"] }]
    });
    var heat = chart("c-heatmap");
    heat.setOption({
      animation: false, tooltip: { position: "top", renderMode: "richText" },
      grid: { left: 50, right: 20, top: 10, bottom: 70 },
      xAxis: { type: "category", data: d.heatmap.hours, splitArea: { show: true } },
      yAxis: { type: "category", data: d.heatmap.weekdays, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, d.heatmap.max), calculable: false, orient: "horizontal", left: "center", bottom: 5,
                   inRange: { color: ["#e8f3ff", "#6aa1ff", "#165dff", "#f53f3f"] } },
      series: [{ name: L.finished, type: "heatmap", data: d.heatmap.cells, label: { show: false } }]
    });
    var rank = chart("c-ranking");
    var height = Math.max(340, d.ranking.length * 22 + 60);
    document.getElementById("c-ranking").style.height = height + "px";
    rank.resize();
    rank.setOption({
      animation: false, tooltip: tip, grid: { left: 120, right: 60, top: 10, bottom: 30 },
      xAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor(Math.min(v.min, floor) - 5)); }, max: 100, name: "%" },
      yAxis: { type: "category", data: d.ranking.map(function (r) { return r.name; }) },
      series: [{ name: L.good_rate, type: "bar", label: { show: true, position: "right", formatter: "{c}%" },
                 data: d.ranking.map(function (r) { return { value: r.good_rate, itemStyle: { color: r.good_rate < floor ? RED : GREEN } }; }),
                 markLine: { silent: true, symbol: "none", lineStyle: { color: RED, type: "dashed" }, data: [{ xAxis: floor }] } }]
    });
    window.addEventListener("resize", function () { trend.resize(); reasons.resize(); heat.resize(); rank.resize(); });
  }
  var status = document.getElementById("chart-status");
  fetch("/charts/data?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(function (d) { draw(d); status.hidden = true; document.body.dataset.charts = "ready"; })
    .catch(function () { status.textContent = status.dataset.failed || status.textContent; document.body.dataset.charts = "failed"; });
}());
