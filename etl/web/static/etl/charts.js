// Draws every <canvas data-chart="ID"> from the Chart.js configuration in the JSON
// script element #ID (rendered by the server; no network access needed).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) { return; }
    new Chart(canvas, JSON.parse(source.textContent));
  });
}());
