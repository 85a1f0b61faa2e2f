// 数据大屏 (bigscreen_page.py): poll /bigscreen/data and redraw. Text through textContent only;
// charts on canvas, no inline styles or handlers (CSP).
(function () {
  "use strict";
  var root = document.getElementById("big");
  if (!root || typeof echarts === "undefined") { return; }
  var pollMs = (parseInt(root.dataset.pollS, 10) || 5) * 1000;
  var AXIS = { lineStyle: { color: "#3d5a8a" } }, TXT = { color: "#9fb8dc", fontSize: 16 };
  var flow = echarts.init(document.getElementById("b-flow"), null, { renderer: "canvas" });
  var levels = echarts.init(document.getElementById("b-levels"), null, { renderer: "canvas" });
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function kpi(id, text) { document.querySelector("#k-" + id + " b").textContent = text; }
  function list(id, items) {
    var ul = document.getElementById(id);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    items.forEach(function (it) {
      var li = document.createElement("li");
      if (it.cls) { li.className = it.cls; }
      var a = document.createElement("span"); a.textContent = it.left; li.appendChild(a);
      var b = document.createElement("span"); b.textContent = it.right || ""; li.appendChild(b);
      ul.appendChild(li);
    });
  }
  function draw(d) {
    var L = d.labels;
    document.getElementById("b-clock").textContent = d.clock;
    kpi("taken", d.today.taken); kpi("finished", d.today.finished); kpi("waiting", d.waiting.now);
    kpi("longest", d.waiting.longest_min === null ? "—" : d.waiting.longest_min + L.min);
    kpi("mean_wait", d.today.mean_wait_min === null ? "—" : d.today.mean_wait_min + L.min);
    kpi("good_rate", pct(d.today.good_rate)); kpi("participation", pct(d.today.participation_rate));
    kpi("bad", d.today.bad);
    flow.setOption({
      animation: false, legend: { data: [L.taken, L.finished, L.mean_wait], textStyle: TXT },
      grid: { left: 50, right: 50, top: 40, bottom: 30 },
      xAxis: { type: "category", data: d.flow.hours.map(function (h) { return h + ":00"; }), axisLine: AXIS, axisLabel: TXT },
      yAxis: [{ type: "value", axisLabel: TXT, splitLine: AXIS }, { type: "value", axisLabel: TXT, splitLine: { show: false } }],
      series: [
        { name: L.taken, type: "bar", data: d.flow.taken, itemStyle: { color: "#4fd1ff" } },
        { name: L.finished, type: "bar", data: d.flow.finished, itemStyle: { color: "#2ee59d" } },
        { name: L.mean_wait, type: "line", yAxisIndex: 1, data: d.flow.mean_wait_min, itemStyle: { color: "#ffb347" } }
      ]
    });
    var colors = ["#2ee59d", "#4fd1ff", "#a0aec0", "#ffb347", "#ff5a5a"];
    levels.setOption({
      animation: false,
      title: { text: pct(d.today.good_rate), subtext: L.good_rate, left: "center", top: "38%",
               textStyle: { color: "#fff", fontSize: 34 }, subtextStyle: TXT },
      series: [{ type: "pie", radius: ["48%", "70%"], label: { color: "#c9d6ea", fontSize: 15, formatter: "{b} {c}" },
                 data: d.today.levels.map(function (v, i) { return { name: d.levels_names[i], value: v, itemStyle: { color: colors[i] } }; }) }]
    });
    var floor = document.getElementById("b-floor");
    while (floor.firstChild) { floor.removeChild(floor.firstChild); }
    d.floor.windows.forEach(function (w) {
      var el = document.createElement("div");
      el.className = "tile " + w.state;
      el.textContent = w.number;
      el.title = w.name + " " + (d.states[w.state] || "") + " " + w.staff;
      floor.appendChild(el);
    });
    document.getElementById("b-states").textContent = Object.keys(d.states).map(function (k) {
      return d.states[k] + " " + (d.floor.states[k] || 0);
    }).join("　");
    list("b-rank-today", d.rank_today.length ? d.rank_today.map(function (r, i) {
      return { left: (i + 1) + ". " + r.name, right: r.served + L.served + "　" + pct(r.good_rate) };
    }) : [{ left: L.none }]);
    list("b-rank-month", d.rank_month.length ? d.rank_month.map(function (r, i) {
      return { left: (i + 1) + ". " + r.name, right: pct(r.good_rate), cls: r.good_rate < 0.95 ? "bad" : "" };
    }) : [{ left: L.none }]);
    list("b-alerts", d.alerts.length ? d.alerts.map(function (a) {
      return { left: a.text, cls: a.level === "red" || a.level === "error" ? "bad" : "warn" };
    }) : [{ left: L.none }]);
    root.dataset.seen = String(d.at_ms);
  }
  function poll() {
    fetch("/bigscreen/data", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (d) { draw(d); root.dataset.state = "live"; })
      .catch(function () { root.dataset.state = "offline"; document.getElementById("b-clock").textContent = root.dataset.failed; })
      .then(function () { setTimeout(poll, pollMs); });
  }
  poll();
}());
