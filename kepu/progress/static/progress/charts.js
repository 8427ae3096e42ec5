/* Progress charts (round dashboard; completion per plan / per office). Data and labels come
   from #progress-chart-data (json_script): status (pie), sections with the bar series named in
   data.series, units with a rate. Every name is user text and goes through Kepu.esc before it
   reaches a tooltip. */
(function () {
  "use strict";
  var el = document.getElementById("progress-chart-data");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.textContent);
  var esc = window.Kepu.esc;
  var charts = [];
  function make(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var c = echarts.init(node);
    charts.push(c);
    return c;
  }
  var status = make("chart-status");
  if (status) status.setOption({
    title: { text: data.status_title, left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "item", formatter: function (p) { return esc(p.name) + ": " + p.value; } },
    series: [{ type: "pie", radius: ["35%", "65%"], data: data.status,
      label: { formatter: function (p) { return p.name + " " + p.value; } } }]
  });
  var sections = make("chart-sections");
  if (sections) sections.setOption({
    title: { text: "各章节", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", formatter: function (ps) {
      return esc(ps[0].name) + ps.map(function (p) { return "<br>" + esc(p.seriesName) + ": " + p.value; }).join("");
    } },
    legend: { bottom: 0 },
    grid: { left: 40, right: 10, top: 40, bottom: 60 },
    xAxis: { type: "category", data: data.sections.map(function (s) { return s.name; }),
      axisLabel: { interval: 0, width: 80, overflow: "truncate" } },
    yAxis: { type: "value" },
    series: data.series.map(function (ser) {
      return { name: ser.name, type: "bar", data: data.sections.map(function (s) { return s[ser.key]; }) };
    })
  });
  var units = make("chart-units");
  if (units) units.setOption({
    tooltip: { trigger: "axis", formatter: function (ps) {
      return esc(ps[0].name) + ": " + esc(data.rate_label) + " " + ps[0].value + "%";
    } },
    grid: { left: 160, right: 20, top: 10, bottom: 20 },
    xAxis: { type: "value", max: 100 },
    yAxis: { type: "category", inverse: true, data: data.units.map(function (u) { return u.name; }),
      axisLabel: { width: 150, overflow: "truncate" } },
    series: [{ type: "bar", data: data.units.map(function (u) { return u.rate; }), itemStyle: { color: "#1d5fa8" } }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
