// dragonnet: the case form's helpers. Suggestions from the reference data fill <datalist> elements (the
// server still checks every value); "Add an item/party" clones the last row with fresh field names.
// No inline script: this file is loaded by the case pages (CSP script-src 'self').
(function () {
  "use strict";

  var timers = new WeakMap();

  function fillList(list, rows) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = row.value;
      option.label = row.label;
      option.textContent = row.label;
      list.appendChild(option);
    });
  }

  function lookup(input) {
    var kind = input.getAttribute("data-lookup");
    var list = document.getElementById("dl-" + kind);
    var text = input.value.split(";").pop().trim();
    if (!list || text.length < 1) {
      return;
    }
    var url = "/api/v1/lookups/" + encodeURIComponent(kind) + "?limit=12&q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (rows) { fillList(list, rows); })
      .catch(function () { /* suggestions are optional */ });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-lookup")) {
      return;
    }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(function () { lookup(input); }, 200));
  });

  function addRow(containerId) {
    var container = document.getElementById(containerId);
    if (!container) {
      return;
    }
    var rows = container.querySelectorAll(".row");
    var last = rows[rows.length - 1];
    if (!last) {
      return;
    }
    var next = rows.length;
    var clone = last.cloneNode(true);
    clone.setAttribute("data-row", String(next));
    clone.querySelectorAll("input, select").forEach(function (field) {
      var name = field.getAttribute("name") || "";
      var renamed = name.replace(/^(item|party)-\d+-/, "$1-" + next + "-");
      field.setAttribute("name", renamed);
      field.id = "f-" + renamed;
      if (field.tagName === "SELECT") {
        field.selectedIndex = 0;
      } else {
        field.value = "";
      }
    });
    clone.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    clone.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
    container.appendChild(clone);
  }

  document.addEventListener("click", function (event) {
    var button = event.target;
    if (button instanceof HTMLElement && button.hasAttribute("data-add-row")) {
      event.preventDefault();
      addRow(button.getAttribute("data-add-row"));
    }
  });
})();
