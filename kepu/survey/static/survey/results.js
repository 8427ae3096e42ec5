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
  var BLUE = "#1d5fa8", AMBER = "#b9770e", RED = "#c0392b", GREEN = "#1e7e34", GREY = "#667085";
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
  // Error bars drawn by a custom series: [x, low, high, value] (vertical) or
  // [low, high, y, value] (horizontal).  The estimate's value is written beyond the
  // upper end of its interval, so no number is ever drawn over an error bar.
  function errorBars(points, horizontal, withValues, notes) {
    return {
      type: "custom", name: "95%置信区间", silent: true, z: 5,
      renderItem: function (params, api) {
        var a, b, cap = 5, children, v = api.value(3), text = null;
        var stroke = { stroke: "#333", lineWidth: 1.2 };
        function bar(shape) { return { type: "line", name: "ebar", shape: shape, style: stroke }; }
        if (horizontal) {
          a = api.coord([api.value(0), api.value(2)]);
          b = api.coord([api.value(1), api.value(2)]);
          children = [
            bar({ x1: a[0], y1: a[1], x2: b[0], y2: b[1] }),
            bar({ x1: a[0], y1: a[1] - cap, x2: a[0], y2: a[1] + cap }),
            bar({ x1: b[0], y1: b[1] - cap, x2: b[0], y2: b[1] + cap })
          ];
          if (withValues && !isNaN(v)) text = { type: "text", name: "evalue", x: b[0] + 6, y: b[1],
            style: { text: v.toFixed(1), fill: "#1f2733", fontSize: 11, verticalAlign: "middle", align: "left" } };
        } else {
          a = api.coord([api.value(0), api.value(1)]);
          b = api.coord([api.value(0), api.value(2)]);
          children = [
            bar({ x1: a[0], y1: a[1], x2: b[0], y2: b[1] }),
            bar({ x1: a[0] - cap, y1: a[1], x2: a[0] + cap, y2: a[1] }),
            bar({ x1: b[0] - cap, y1: b[1], x2: b[0] + cap, y2: b[1] })
          ];
          if (withValues && !isNaN(v)) text = { type: "text", name: "evalue", x: b[0], y: b[1] - 4,
            style: { text: v.toFixed(1), fill: "#1f2733", fontSize: 11, verticalAlign: "bottom", align: "center" } };
        }
        if (text) children.push(text);
        var note = notes && notes[params.dataIndex];
        if (note && !horizontal) {
          // beside the point, outwards (away from the neighbouring years' bars)
          var sys = params.coordSys, onRight = a[0] > sys.x + sys.width / 2;
          children.push({ type: "text", name: "enote", x: onRight ? a[0] + 8 : a[0] - 8, y: a[1] + 4,
            style: { text: note.text, fill: note.color, fontSize: 11, verticalAlign: "top", align: onRight ? "left" : "right" } });
        }
        return { type: "group", children: children };
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

  // A value axis whose top is a multiple of its step (no "80 85" at the end).
  function niceAxis(top) {
    var steps = [5, 10, 20, 25, 50], step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) { if (top / steps[i] <= 5) { step = steps[i]; break; } }
    return { max: Math.max(step, Math.ceil(top / step) * step), interval: step };
  }

  // Category names need about this many pixels side by side; narrower charts turn
  // their bars sideways so the names stack instead of running into each other.
  var MIN_CATEGORY_WIDTH = 78;

  function barChart(id, cells, horizontal) {
    var node = document.getElementById(id);
    if (!node || !cells.length) return;
    if (!horizontal && node.clientWidth / cells.length < MIN_CATEGORY_WIDTH) {
      horizontal = true;
      node.dataset.layout = "horizontal";
      node.style.height = Math.max(220, 34 * cells.length + 70) + "px";
      cells = cells.slice().reverse(); // first category on top
    }
    var chart = make(id);
    var names = cells.map(function (c) { return c.name + (c.flagged ? " ※" : ""); });
    var bars = cells.map(function (c) {
      return { value: c.value, itemStyle: { color: c.flagged ? "#e8c58f" : BLUE }, cell: c };
    });
    var labelWidth = horizontal ? 96 : Math.max(40, Math.floor((node.clientWidth - 110) / cells.length) - 6);
    var cat = { type: "category", data: names,
      axisLabel: { interval: 0, fontSize: 11, width: labelWidth, overflow: "break", lineHeight: 13 } };
    var top = Math.max.apply(null, cells.map(function (c) { return c.high === null ? 0 : c.high; }));
    var axis = niceAxis(Math.max(top * 1.1, 1));
    var val = { type: "value", name: "%", min: 0, max: axis.max, interval: axis.interval,
      axisLabel: { formatter: "{value}", hideOverlap: true } };
    var ebars = cells.map(function (c, i) {
      return horizontal ? [c.low, c.high, i, c.value] : [i, c.low, c.high, c.value];
    });
    var bar = { type: "bar", name: "具备科学素质的比例", data: bars, barMaxWidth: 36, label: { show: false } };
    if (horizontal && data.overall && data.overall.value !== null) {
      var ml = overallLine();
      ml.data = [{ xAxis: data.overall.value }];
      ml.label.position = "end";
      ml.label.formatter = function () { return "全域 " + fmt(data.overall.value); };
      bar.markLine = ml;
    } else if (data.overall && data.overall.value !== null) {
      bar.markLine = { silent: true, symbol: "none", lineStyle: { type: "dashed", color: GREY },
        label: { formatter: "全域\n" + fmt(data.overall.value), color: GREY, position: "end", fontSize: 10 },
        data: [{ yAxis: data.overall.value }] };
    }
    chart.setOption({
      grid: horizontal ? { left: 104, right: 44, top: 34, bottom: 28 } : { left: 40, right: 58, top: 30, bottom: 58 },
      tooltip: { trigger: "item", confine: true, formatter: function (p) { return p.data && p.data.cell ? tip(p.data.cell) : ""; } },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? cat : val,
      series: [bar, errorBars(ebars, horizontal, true)]
    });
    node.dataset.ready = "1";
  }

  function visibleTexts(chart) {
    var out = [];
    function walk(el) {
      if (el.ignore || el.invisible) return;
      if (el.type === "text" && el.style && el.style.text) {
        var r = el.getBoundingRect().clone(), t = el.getComputedTransform();
        if (t) r.applyTransform(t);
        out.push({ el: el, rect: r, text: String(el.style.text) });
      }
      if (el.isGroup) el.eachChild(walk);
      var label = el.getTextContent && el.getTextContent();
      if (label) walk(label);
    }
    chart.getZr().storage.getRoots().forEach(walk);
    return out;
  }
  function keepLabel(chart, prefix) {
    var texts = visibleTexts(chart);
    var mine = texts.filter(function (t) { return t.text.indexOf(prefix) === 0; })[0];
    if (!mine) return;
    var changed = false;
    texts.forEach(function (t) {
      if (t !== mine && t.rect.intersect(mine.rect)) { t.el.ignore = true; changed = true; }
    });
    if (changed) chart.getZr().refresh();
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
        var best = null;
        var mapCells = data.subregions.filter(function (c) { return c.value !== null; });
        mapCells.forEach(function (c) { if (!best || c.value > best.value) best = c; });
        var bestIndex = mapCells.indexOf(best);
        node.dataset.best = best ? best.name : "";
        // ECharts lets the largest areas keep their labels; the highest region (often a
        // small urban district) keeps its own, and the labels overlapping it give way.
        // Registered before setOption: a chart without animation finishes inside it.
        if (best) chart.on("finished", function () { keepLabel(chart, best.name + "\n"); });
        chart.setOption({
          tooltip: { trigger: "item", formatter: function (p) { return p.data && p.data.cell ? tip(p.data.cell) : esc(p.name) + "<br>无数据"; } },
          visualMap: { min: lo, max: hi, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
            text: ["高 %", "低"], calculable: true,
            inRange: { color: ["#e8f0fa", "#7fa7d6", "#1d5fa8", "#0b2f5e"] } },
          series: [{
            type: "map", map: mapName, roam: false, name: "具备科学素质的比例",
            layoutCenter: ["50%", "45%"], layoutSize: "86%",
            // Small regions' labels give way when they overlap, but never the highest
            // region's (ECharts would keep the largest areas' labels first).
            labelLayout: function (p) { return { hideOverlap: !(best && p.dataIndex === bestIndex) }; },
            label: { show: true, fontSize: 12, color: "#1f2733", textBorderColor: "#fff", textBorderWidth: 2,
              formatter: function (p) { return p.data && p.data.cell ? p.name + "\n" + p.data.value.toFixed(1) + "%" + (p.data.cell.flagged ? " ※" : "") : p.name; } },
            itemStyle: { borderColor: "#fff", borderWidth: 1 },
            emphasis: { label: { show: true, fontWeight: "bold" }, itemStyle: { areaColor: "#f5c26b" } },
            data: mapCells.map(function (c) {
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

  // The gap to the target: red while below it, green once it is met.
  function gapNote(gap, narrow) {
    if (gap > 0) return { text: "差距 +" + gap.toFixed(1), color: RED };
    return { text: narrow ? "已达标" : "已达标 (超出 " + (-gap).toFixed(1) + ")", color: GREEN };
  }

  function trendChart() {
    var chart = make("survey-trend");
    if (!chart || !data.trend.length) return;
    var years = data.trend.map(function (p) { return p.year; });
    data.targets.forEach(function (t) { if (years.indexOf(t.year) < 0) years.push(t.year); });
    years.sort();
    var minY = years[0] - 1, maxY = years[years.length - 1] + 1;
    var est = data.trend.filter(function (p) { return p.value !== null; });
    var narrow = document.getElementById("survey-trend").clientWidth < 560;
    chart.setOption({
      grid: narrow ? { left: 36, right: 56, top: 48, bottom: 50 } : { left: 50, right: 90, top: 48, bottom: 50 },
      legend: { data: ["具备科学素质的比例", "目标"], top: 0 },
      tooltip: { trigger: "item", formatter: function (p) {
        if (p.seriesName === "目标") return "目标 " + esc(p.data.label);
        if (!p.data || !p.data.point) return "";
        var t = p.data.point;
        var s = "<b>" + esc(t.title) + "</b><br>比例 " + fmt(t.value) + "<br>95%置信区间 " + fmt(t.low) + " — " + fmt(t.high);
        if (t.target !== null) s += "<br>目标 " + esc(t.target) + "%, " + (t.gap > 0 ? "差距 +" + t.gap.toFixed(2) + " 个百分点" : "已达标 (超出 " + (-t.gap).toFixed(2) + " 个百分点)");
        return s;
      } },
      xAxis: { type: "value", min: minY, max: maxY, interval: 1, name: "调查年份", nameLocation: "middle", nameGap: 28,
        axisLabel: { hideOverlap: true, formatter: function (v) { return String(v); } } },
      yAxis: { type: "value", name: "%", min: 0 },
      series: [
        { type: "line", name: "具备科学素质的比例", color: BLUE, symbolSize: 9, label: { show: false },
          data: est.map(function (p) { return { value: [p.year, p.value], point: p }; }) },
        errorBars(est.map(function (p) { return [p.year, p.low, p.high, p.value]; }), false, true,
          est.map(function (p) { return p.gap === null ? null : gapNote(p.gap, narrow); })),
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
          label: { show: false },
          data: gaps.map(function (p) { return [{ coord: [p.year, p.value], lineStyle: { type: "dotted", color: p.gap > 0 ? RED : GREEN } }, { coord: [p.year, p.target] }]; }) } }] });
    }
  }

  subregionMap();
  (data.breakdowns || []).forEach(function (b) { barChart("chart-" + b.variable, b.cells, false); });
  trendChart();
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  // for tests and screenshots: the charts as drawn
  window.KepuSurveyCharts = charts;
})();
