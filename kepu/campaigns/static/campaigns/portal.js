/* Public campaign page: activities per sub-region on the map (or ranked bars where the
   region has no geometry), with activity points where coordinates exist.
   Data: #portal-chart-data. Every name reaching a tooltip is escaped with the one helper,
   Kepu.esc (kepu/safe.js, loaded by the portal's base template). */
(function () {
  "use strict";
  var el = document.getElementById("portal-chart-data");
  var node = document.getElementById("portal-map");
  if (!el || !node || typeof echarts === "undefined") return;
  var data = JSON.parse(el.textContent);
  var esc = window.Kepu.esc;
  var chart = echarts.init(node);
  var regions = data.regions || [];
  var max = Math.max.apply(null, [1].concat(regions.map(function (r) { return r.value; })));

  function bars() {
    var sorted = regions.slice().sort(function (a, b) { return a.value - b.value; });
    chart.setOption({
      tooltip: { trigger: "item", formatter: function (p) { return esc(p.name) + ": " + p.value + " 场"; } },
      grid: { left: 8, right: 40, top: 10, bottom: 10, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: sorted.map(function (r) { return r.name; }), axisLabel: { width: 90, overflow: "truncate" } },
      series: [{ type: "bar", data: sorted.map(function (r) { return r.value; }), itemStyle: { color: "#1d5fa8" }, label: { show: true, position: "right" } }]
    });
  }

  function map(geojson, points) {
    echarts.registerMap("portal-region", geojson);
    chart.setOption({
      tooltip: { trigger: "item", formatter: function (p) {
        if (p.seriesType === "scatter") return esc(p.name);
        return esc(p.name) + ": " + (p.value || 0) + " 场";
      } },
      visualMap: { min: 0, max: max, left: 8, bottom: 8, text: ["多", "少"], calculable: true, inRange: { color: ["#e8f0fa", "#1d5fa8"] }, seriesIndex: 0 },
      geo: { map: "portal-region", roam: true, label: { show: false } },
      series: [
        { type: "map", map: "portal-region", geoIndex: 0, data: regions },
        { type: "scatter", coordinateSystem: "geo", symbolSize: 7, itemStyle: { color: "#c0392b" }, data: points }
      ]
    });
    chart.on("click", function (p) { if (p.seriesType === "scatter" && p.data && p.data.url) window.location.href = p.data.url; });
  }

  var pointsReq = fetch(data.points_url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { points: [] }; });
  if (data.geo_url) {
    Promise.all([fetch(data.geo_url).then(function (r) { if (!r.ok) throw new Error("geo"); return r.json(); }), pointsReq])
      .then(function (res) { map(res[0], res[1].points || []); })
      .catch(bars);
  } else {
    bars();
  }
  window.addEventListener("resize", function () { chart.resize(); });
})();
