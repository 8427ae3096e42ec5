/* Activity form: pick the coordinates on a map instead of typing them.
   The map is the prefecture around the region code typed in the form (its counties, from
   the vendored map package, no tiles); a click sets 纬度/经度, which stay editable by hand.
   Data: #activity-map-picker[data-geo-url]. Static file: the CSP allows no inline script. */
(function () {
  "use strict";
  var node = document.getElementById("activity-map-picker");
  if (!node || typeof echarts === "undefined") return;
  var hint = document.getElementById("activity-map-hint");
  var lat = document.getElementById("id_latitude");
  var lng = document.getElementById("id_longitude");
  var region = document.getElementById("id_region");
  if (!lat || !lng) return;
  var esc = window.Kepu && window.Kepu.esc ? window.Kepu.esc : function (s) { return String(s); };
  var chart = null;
  var loaded = "";

  function say(text) { if (hint) hint.textContent = text; }

  function current() {
    var x = parseFloat(lng.value), y = parseFloat(lat.value);
    return isNaN(x) || isNaN(y) ? [] : [{ name: "活动地点", value: [x, y] }];
  }

  function mark() {
    if (chart) chart.setOption({ series: [{ id: "point", data: current() }] });
  }

  function draw(geojson) {
    echarts.registerMap("activity-picker", geojson);
    if (!chart) {
      chart = echarts.init(node);
      chart.getZr().on("click", function (e) {
        var p = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
        if (!p || isNaN(p[0]) || isNaN(p[1])) return;
        lng.value = p[0].toFixed(6);
        lat.value = p[1].toFixed(6);
        lng.dispatchEvent(new Event("change", { bubbles: true }));
        lat.dispatchEvent(new Event("change", { bubbles: true }));
        mark();
        say("已选定: 经度 " + lng.value + ", 纬度 " + lat.value + " (可在下方输入框中修改)");
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    node.hidden = false;
    chart.setOption({
      tooltip: { trigger: "item", formatter: function (p) { return esc(p.name); } },
      geo: { map: "activity-picker", roam: true, layoutCenter: ["50%", "50%"], layoutSize: "95%", label: { show: true, fontSize: 10, color: "#555" },
             itemStyle: { areaColor: "#eef3fa", borderColor: "#7a93b8" },
             emphasis: { itemStyle: { areaColor: "#d6e4f5" }, label: { show: true } } },
      series: [{ id: "point", type: "scatter", coordinateSystem: "geo", symbolSize: 12,
                 itemStyle: { color: "#c0392b" }, data: current() }]
    }, true);
    chart.resize();
    say("在地图上点击活动地点, 经纬度会自动填入 (" + (geojson.region || "") + ")。");
  }

  function load() {
    var code = region ? region.value.trim() : "";
    if (code === loaded && chart) return;
    loaded = code;
    var url = node.getAttribute("data-geo-url") + (code ? "?region=" + encodeURIComponent(code) : "");
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("geo"); return r.json(); })
      .then(draw)
      .catch(function () {
        node.hidden = true;
        say("该区域没有地图数据, 请直接填写经纬度。");
      });
  }

  lat.addEventListener("input", mark);
  lng.addEventListener("input", mark);
  if (region) region.addEventListener("change", load);
  load();
})();
