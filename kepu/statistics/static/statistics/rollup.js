/* Statistics roll-up charts. Data comes from #stat-chart-data (json_script); region,
   department and indicator names go through Kepu.esc before reaching a tooltip. */
(function () {
  "use strict";
  var el = document.getElementById("stat-chart-data");
  if (!el || typeof echarts === "undefined" || !window.Kepu) return;
  var esc = window.Kepu.esc;
  var data = JSON.parse(el.textContent);
  var charts = [];
  function make(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var c = echarts.init(node);
    charts.push(c);
    return c;
  }
  var groups = make("stat-chart-groups");
  if (groups) groups.setOption({
    title: { text: data.indicator, left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", formatter: function (ps) {
      return esc(ps[0].name) + ": " + esc(ps[0].value) + " " + esc(data.unit);
    } },
    grid: { left: 60, right: 10, top: 40, bottom: 60 },
    xAxis: { type: "category", data: data.groups.map(function (g) { return g.name; }),
      axisLabel: { interval: 0, width: 80, overflow: "truncate" } },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: data.groups.map(function (g) { return g.value; }), itemStyle: { color: "#1d5fa8" } }]
  });
  var series = make("stat-chart-series");
  if (series) series.setOption({
    title: { text: "历年汇总", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", formatter: function (ps) {
      return esc(ps[0].name) + "年 " + esc(data.indicator) + ": " + esc(ps[0].value) + " " + esc(data.unit);
    } },
    grid: { left: 60, right: 10, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.series.map(function (s) { return String(s.year); }) },
    yAxis: { type: "value" },
    series: [{ type: "line", data: data.series.map(function (s) { return s.value; }) }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
