// Optional: the page is complete without it. Click a stack in a legend or a table row to fade
// the others in every chart and table (click again to clear); save the embedded data as JSON.
(function () {
  "use strict";
  var dataNode = document.getElementById("report-data");
  var data = JSON.parse(dataNode.textContent);
  var focused = null;

  function focus(cls) {
    focused = focused === cls ? null : cls;
    document.body.classList.toggle("focusing", focused !== null);
    var marked = document.querySelectorAll(".focused");
    for (var i = 0; i < marked.length; i++) marked[i].classList.remove("focused");
    if (focused === null) return;
    var mine = document.getElementsByClassName(focused);
    for (var j = 0; j < mine.length; j++) mine[j].classList.add("focused");
  }

  function stackClass(el) {
    while (el && el !== document.body) {
      if (el.classList) {
        for (var i = 0; i < el.classList.length; i++) {
          if (/^s\d+$/.test(el.classList[i])) return el.classList[i];
        }
      }
      el = el.parentNode;
    }
    return null;
  }

  document.addEventListener("click", function (e) {
    var target = e.target;
    var inLegend = target.closest && target.closest(".legend-item, tbody tr");
    if (!inLegend) return;
    var cls = stackClass(inLegend);
    if (cls) focus(cls);
  });

  var save = document.getElementById("save-data");
  save.hidden = false;
  save.addEventListener("click", function () {
    var blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "stackwise-" + data.run.id + "-summary.json";
    document.body.appendChild(a);
    a.click();
    a.remove();
  });

  document.documentElement.setAttribute("data-ready", String(data.cells.length));
})();
