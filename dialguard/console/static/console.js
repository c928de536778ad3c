// dialguard console: draws the overview's chart (Chart.js, vendored) from the JSON the server
// embedded, and follows a running audit verification. No inline script (the CSP forbids it).
(function () {
  "use strict";
  var COLOURS = ["#b3261e", "#e8710a", "#f2b400", "#5e35b1", "#1e88e5", "#00897b",
                 "#6d4c41", "#c2185b", "#7cb342", "#546e7a"];

  function drawDenials() {
    var holder = document.getElementById("denials-data");
    var canvas = document.getElementById("denials-chart");
    if (!holder || !canvas || typeof Chart === "undefined") { return; }
    var data = JSON.parse(holder.textContent);
    data.datasets.forEach(function (set, i) {
      set.backgroundColor = COLOURS[i % COLOURS.length];
      set.stack = "denials";
    });
    var chart = new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.dataset.points = String(data.datasets.reduce(function (sum, set) {
      return sum + set.data.reduce(function (a, b) { return a + b; }, 0);
    }, 0));
    canvas.dataset.rendered = "true";
    window.dialguardChart = chart;
  }

  function followVerification() {
    var status = document.getElementById("verify-status");
    if (!status || status.dataset.running !== "true") { return; }
    var timer = setInterval(function () {
      fetch("/console/evidence/progress", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          var bar = document.getElementById("verify-progress");
          if (bar) { bar.max = s.total || 1; bar.value = s.done; }
          var phase = document.getElementById("verify-phase");
          if (phase) { phase.textContent = s.phase; }
          var count = document.getElementById("verify-count");
          if (count) { count.textContent = s.done + "/" + s.total; }
          if (!s.running) { clearInterval(timer); window.location.reload(); }
        });
    }, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawDenials();
    followVerification();
  });
}());
