// The workbench's own script: draws the statistics charts (ECharts) from the JSON the page carries.
// No inline scripts anywhere (the Content-Security-Policy forbids them).
"use strict";

function drawCharts() {
  if (typeof echarts === "undefined") return;
  document.querySelectorAll(".chart[data-series]").forEach(function (el) {
    var source = document.getElementById(el.dataset.source || "stats-year");
    if (!source) return;
    var rows = JSON.parse(source.textContent);
    var axis = el.dataset.axis || "year";
    var series = el.dataset.series;
    var isRate = el.dataset.ratio === "1";
    var labels = rows.map(function (r) { return r[axis] == null ? "（不详）" : String(r[axis]); });
    var values = rows.map(function (r) {
      var v = r[series];
      return v == null ? null : (isRate ? Math.round(v * 10000) / 100 : v);
    });
    var chart = echarts.init(el);
    chart.setOption({
      title: { text: el.dataset.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : (isRate ? v + "%" : v); } },
      grid: { left: 60, right: 20, bottom: 40, top: 40 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", axisLabel: { formatter: isRate ? "{value}%" : "{value}" } },
      series: [{ type: el.dataset.kind || "bar", data: values, connectNulls: false, itemStyle: { color: "#a4161a" } }],
      animation: false
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
}

document.addEventListener("DOMContentLoaded", drawCharts);
