// casetracker: draw the report's charts from the JSON the page carries.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Chart) { return; }
  document.querySelectorAll("canvas.pareto").forEach(function (canvas) {
    var rows = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
    var chart = new Chart(canvas, {
      data: {
        labels: rows.map(function (r) { return r.label; }),
        datasets: [
          { type: "bar", label: "#", data: rows.map(function (r) { return r.count; }), yAxisID: "y" },
          { type: "line", label: "%", data: rows.map(function (r) { return Math.round(r.cumulative * 100); }), yAxisID: "share" }
        ]
      },
      options: {
        animation: false,
        scales: { y: { beginAtZero: true }, share: { position: "right", min: 0, max: 100 } },
        onClick: function (event, elements) {
          if (elements.length && rows[elements[0].index].url) {
            window.location.href = rows[elements[0].index].url;
          }
        }
      }
    });
    canvas.chart = chart;
  });
  var trend = document.getElementById("trend");
  if (trend) {
    var data = JSON.parse(document.getElementById("trend-data").textContent);
    new Chart(trend, {
      type: "bar",
      data: data,
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
  }
});
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("performance-chart");
  if (!canvas || !window.Chart) { return; }
  var data = JSON.parse(document.getElementById("performance-data").textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "#", data: data.handled, yAxisID: "y" },
        { type: "line", label: "%", data: data.satisfaction, yAxisID: "share" }
      ]
    },
    options: { animation: false, scales: { y: { beginAtZero: true }, share: { position: "right", min: 0, max: 100 } } }
  });
});
