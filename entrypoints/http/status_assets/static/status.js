/* Draws the staff page's 30-day chart with Chart.js from the page's JSON block.
 *
 * A file of its own, loaded with `defer` after chart.umd.js, because the page's
 * Content-Security-Policy runs no inline script. The table under the chart carries the same
 * numbers for anyone the canvas does not serve. When the chart has been drawn the canvas gets
 * `data-rendered="true"`, which the browser test waits for.
 */
(function () {
  "use strict";

  var ITEMS = "#1f5fa8";     /* 6.4:1 on white */
  var REQUESTS = "#b35900";  /* 4.9:1 on white */
  var TEXT = "#1b1b1b";
  var GRID = "#dde1e6";

  function draw() {
    var canvas = document.getElementById("activity-chart");
    var source = document.getElementById("activity-data");
    if (!canvas || !source) {
      return;
    }
    if (typeof window.Chart !== "function") {
      canvas.setAttribute("data-rendered", "unavailable");
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.days.map(function (day) { return day.slice(5); }),
        datasets: [
          { label: "Items mirrored", data: data.items, backgroundColor: ITEMS },
          { label: "Requests forwarded", data: data.requests, backgroundColor: REQUESTS }
        ]
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { ticks: { color: TEXT }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: TEXT, precision: 0 }, grid: { color: GRID } }
        },
        plugins: {
          legend: { labels: { color: TEXT } },
          tooltip: {
            callbacks: {
              title: function (items) { return data.days[items[0].dataIndex]; }
            }
          }
        }
      },
      plugins: [{
        id: "almabridgeRendered",
        afterRender: function (chart) {
          chart.canvas.setAttribute("data-rendered", "true");
        }
      }]
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
