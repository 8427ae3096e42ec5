/* Charts of the survey results page: sub-region map (or ranked bars), breakdowns with
   CI error bars, and the trend against targets.  Data comes from #survey-chart-data. */
(function () {
  "use strict";
  var el = document.getElementById("survey-chart-data");
  if (!el || typeof echarts === "undefined") return;
  var data = JSON.parse(el.textContent);
  // Tooltips are HTML: every text that came from users (wave titles, target labels,
  // region and category names, flag reasons) goes through Kepu.esc (kepu/safe.js).
  // Labels and axis labels are drawn on the canvas as plain text and are not escaped.
  var esc = window.Kepu.esc;
  var BLUE = "#1d5fa8", AMBER = "#b9770e", RED = "#c0392b", GREY = "#667085";
  var charts = [];

  function fmt(v) { return v === null || v === undefined ? "—" : v.toFixed(2) + "%"; }
  function tip(c) {
    var s = "<b>" + esc(c.name) + "</b><br>比例 " + fmt(c.value) +
      "<br>95%置信区间 " + fmt(c.low) + " — " + fmt(c.high) + "<br>样本量 " + esc(c.n);
    if (c.flagged) s += "<br><span style='color:" + AMBER + "'>※ " + esc(c.reason) + "</span>";
    return s;
  }
  function make(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var chart = echarts.init(node);
    charts.push(chart);
    return chart;
  }
  // Error bars drawn by a custom series: [x, low, high] (vertical) or [low, high, y].
  function errorBars(points, horizontal) {
    return {
      type: "custom", name: "95%置信区间", silent: true, z: 5,
      renderItem: function (params, api) {
        var a, b, cap = 5;
        if (horizontal) {
          a = api.coord([api.value(0), api.value(2)]);
          b = api.coord([api.value(1), api.value(2)]);
          return { type: "group", children: [
            { type: "line", shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: { stroke: "#333", lineWidth: 1.2 } },
            { type: "line", shape: { x1: a[0], y1: a[1] - cap, x2: a[0], y2: a[1] + cap }, style: { stroke: "#333", lineWidth: 1.2 } },
            { type: "line", shape: { x1: b[0], y1: b[1] - cap, x2: b[0], y2: b[1] + cap }, style: { stroke: "#333", lineWidth: 1.2 } }
          ] };
        }
        a = api.coord([api.value(0), api.value(1)]);
        b = api.coord([api.value(0), api.value(2)]);
        return { type: "group", children: [
          { type: "line", shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: { stroke: "#333", lineWidth: 1.2 } },
          { type: "line", shape: { x1: a[0] - cap, y1: a[1], x2: a[0] + cap, y2: a[1] }, style: { stroke: "#333", lineWidth: 1.2 } },
          { type: "line", shape: { x1: b[0] - cap, y1: b[1], x2: b[0] + cap, y2: b[1] }, style: { stroke: "#333", lineWidth: 1.2 } }
        ] };
      },
      data: points
    };
  }
  function overallLine() {
    if (!data.overall) return undefined;
    return { silent: true, symbol: "none", lineStyle: { type: "dashed", color: GREY },
      // a function, not a template string: "{b}" in a region name must stay text
      label: { formatter: function () { return data.region + " " + fmt(data.overall.value); }, color: GREY },
      data: [data.overall.value !== null ? { xAxis: data.overall.value } : {}] };
  }

  function barChart(id, cells, horizontal) {
    var chart = make(id);
    if (!chart || !cells.length) return;
    var names = cells.map(function (c) { return c.name + (c.flagged ? " ※" : ""); });
    var bars = cells.map(function (c) {
      return { value: c.value, itemStyle: { color: c.flagged ? "#e8c58f" : BLUE }, cell: c };
    });
    var cat = { type: "category", data: names,
      axisLabel: { interval: 0, fontSize: 11, width: horizontal ? 100 : 64, overflow: "break" } };
    var top = Math.max.apply(null, cells.map(function (c) { return c.high === null ? 0 : c.high; }));
    var val = { type: "value", name: "%", min: 0, max: Math.max(5, Math.ceil(top / 5) * 5),
      axisLabel: { formatter: "{value}" } };
    var ebars = cells.map(function (c, i) {
      return horizontal ? [c.low, c.high, i] : [i, c.low, c.high];
    });
    var bar = { type: "bar", name: "具备科学素质的比例", data: bars, barMaxWidth: 36,
      label: { show: true, position: horizontal ? "right" : "insideTop", formatter: function (p) { return p.value === null ? "" : p.value.toFixed(1); }, color: horizontal ? "#333" : "#fff", fontSize: 11, distance: horizontal ? 40 : 5 } };
    if (horizontal && data.overall) {
      var ml = overallLine();
      ml.data = [{ xAxis: data.overall.value }];
      bar.markLine = ml;
    } else if (data.overall && data.overall.value !== null) {
      bar.markLine = { silent: true, symbol: "none", lineStyle: { type: "dashed", color: GREY },
        label: { formatter: "全域\n" + fmt(data.overall.value), color: GREY, position: "end", fontSize: 10 },
        data: [{ yAxis: data.overall.value }] };
    }
    chart.setOption({
      grid: horizontal ? { left: 110, right: 60, top: 30, bottom: 30 } : { left: 45, right: 58, top: 30, bottom: 50 },
      tooltip: { trigger: "item", formatter: function (p) { return p.data && p.data.cell ? tip(p.data.cell) : ""; } },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? cat : val,
      series: [bar, errorBars(ebars, horizontal)]
    });
  }

  function subregionMap() {
    var node = document.getElementById("survey-map");
    if (!node || !data.subregions.length) return;
    if (node.dataset.kind !== "map" || !data.geo_url) {
      // ranked bars, highest first (top of the chart)
      var ranked = data.subregions.slice().sort(function (a, b) { return (a.value || 0) - (b.value || 0); });
      node.style.height = Math.max(260, 36 * ranked.length + 60) + "px";
      barChart("survey-map", ranked, true);
      return;
    }
    var chart = make("survey-map");
    chart.showLoading({ text: "正在加载地图…" });
    fetch(data.geo_url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (geojson) {
        var mapName = "kepu-" + data.region;
        echarts.registerMap(mapName, geojson);
        var values = data.subregions.map(function (c) { return c.value; }).filter(function (v) { return v !== null; });
        var lo = Math.floor(Math.min.apply(null, values)), hi = Math.ceil(Math.max.apply(null, values));
        if (lo === hi) { lo -= 1; hi += 1; }
        chart.hideLoading();
        chart.setOption({
          tooltip: { trigger: "item", formatter: function (p) { return p.data && p.data.cell ? tip(p.data.cell) : esc(p.name) + "<br>无数据"; } },
          visualMap: { min: lo, max: hi, left: 10, bottom: 10, text: ["高 %", "低"], calculable: true,
            inRange: { color: ["#e8f0fa", "#7fa7d6", "#1d5fa8", "#0b2f5e"] } },
          series: [{
            type: "map", map: mapName, roam: false, name: "具备科学素质的比例",
            layoutCenter: ["55%", "50%"], layoutSize: "96%", labelLayout: { hideOverlap: true },
            label: { show: true, fontSize: 12, color: "#1f2733", textBorderColor: "#fff", textBorderWidth: 2,
              formatter: function (p) { return p.data && p.data.cell ? p.name + "\n" + p.data.value.toFixed(1) + "%" + (p.data.cell.flagged ? " ※" : "") : p.name; } },
            itemStyle: { borderColor: "#fff", borderWidth: 1 },
            emphasis: { label: { show: true, fontWeight: "bold" }, itemStyle: { areaColor: "#f5c26b" } },
            data: data.subregions.filter(function (c) { return c.value !== null; }).map(function (c) {
              return { name: c.name, value: c.value, cell: c,
                itemStyle: c.flagged ? { borderColor: AMBER, borderWidth: 2, borderType: "dashed" } : undefined };
            })
          }]
        });
        node.dataset.ready = "1";
      })
      .catch(function (err) {
        if (window.console) console.warn("survey map:", err);
        chart.dispose();
        node.dataset.kind = "bar";
        var note = document.createElement("p");
        note.className = "hint"; note.textContent = "地图加载失败, 以排序条形图显示。";
        node.parentNode.insertBefore(note, node);
        subregionMap();
      });
  }

  function trendChart() {
    var chart = make("survey-trend");
    if (!chart || !data.trend.length) return;
    var years = data.trend.map(function (p) { return p.year; });
    data.targets.forEach(function (t) { if (years.indexOf(t.year) < 0) years.push(t.year); });
    years.sort();
    var minY = years[0] - 1, maxY = years[years.length - 1] + 1;
    var est = data.trend.filter(function (p) { return p.value !== null; });
    chart.setOption({
      grid: { left: 50, right: 90, top: 40, bottom: 50 },
      legend: { data: ["具备科学素质的比例", "目标"], top: 0 },
      tooltip: { trigger: "item", formatter: function (p) {
        if (p.seriesName === "目标") return "目标 " + esc(p.data.label);
        if (!p.data || !p.data.point) return "";
        var t = p.data.point;
        var s = "<b>" + esc(t.title) + "</b><br>比例 " + fmt(t.value) + "<br>95%置信区间 " + fmt(t.low) + " — " + fmt(t.high);
        if (t.target !== null) s += "<br>目标 " + esc(t.target) + "%, 差距 " + (t.gap > 0 ? "+" : "") + t.gap.toFixed(2) + " 个百分点";
        return s;
      } },
      xAxis: { type: "value", min: minY, max: maxY, interval: 1, name: "调查年份", nameLocation: "middle", nameGap: 28,
        axisLabel: { formatter: function (v) { return String(v); } } },
      yAxis: { type: "value", name: "%", min: 0 },
      series: [
        { type: "line", name: "具备科学素质的比例", color: BLUE, symbolSize: 9,
          label: { show: true, position: "left", formatter: function (p) {
            var t = p.data.point, s = p.value[1].toFixed(1) + "%";
            if (t.gap !== null) s += "\n{gap|差距 " + (t.gap > 0 ? "+" : "") + t.gap.toFixed(1) + "}";
            return s;
          }, rich: { gap: { color: RED, fontSize: 11 } } },
          data: est.map(function (p) { return { value: [p.year, p.value], point: p }; }) },
        errorBars(est.map(function (p) { return [p.year, p.low, p.high]; }), false),
        { type: "scatter", name: "目标", color: RED, symbol: "diamond", symbolSize: 14,
          label: { show: true, position: "right", formatter: function (p) { return "目标 " + p.value[1] + "%"; }, color: RED },
          data: data.targets.map(function (t) { return { value: [t.year, t.rate], label: t.label }; }) }
      ]
    });
    // gap lines: from each estimate to its target
    var gaps = est.filter(function (p) { return p.target !== null; });
    if (gaps.length) {
      chart.setOption({ series: [{}, {}, {}, { type: "line", name: "差距", silent: true, symbol: "none",
        lineStyle: { type: "dotted", color: RED }, data: [], markLine: { symbol: "none", silent: true,
          lineStyle: { type: "dotted", color: RED }, label: { show: false },
          data: gaps.map(function (p) { return [{ coord: [p.year, p.value], gap: (p.gap > 0 ? "+" : "") + p.gap.toFixed(1) }, { coord: [p.year, p.target] }]; }) } }] });
    }
  }

  subregionMap();
  (data.breakdowns || []).forEach(function (b) { barChart("chart-" + b.variable, b.cells, false); });
  trendChart();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
