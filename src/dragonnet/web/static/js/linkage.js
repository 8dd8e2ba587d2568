// dragonnet: the network graph (cytoscape.js). Data comes from the JSON API named in data-graph-url; a tap on
// a case node opens the case page (the server decides whether the viewer may see it). No inline script (CSP).
(function () {
  "use strict";

  function draw(container, elements) {
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        // Labels whole (a case ref such as LCD-2022-000123 is not cut), on a light backing so that edges behind
        // them do not blur them, and hidden when zoomed out too far to read rather than drawn as smudges.
        { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-wrap": "wrap",
          "text-max-width": 180, "text-background-color": "#ffffff", "text-background-opacity": 0.85,
          "text-background-padding": 1, "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 6,
          "background-color": "#64748b", "width": 18, "height": 18, "color": "#1b2430" } },
        { selector: "node[type = 'case']", style: { "shape": "round-rectangle", "background-color": "#0f4c5c",
          "width": 22, "height": 22 } },
        { selector: "node[type = 'person'], node[type = 'company']", style: { "background-color": "#c2410c" } },
        { selector: "node[type = 'encoded_match']", style: { "background-color": "#7c3aed" } },
        { selector: "edge", style: { "width": 1.5, "line-color": "#b8c2cc", "curve-style": "bezier" } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#f2c14e" } }
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 12000, idealEdgeLength: 80, nodeDimensionsIncludeLabels: true }
    });
    cy.on("tap", "node[type = 'case']", function (event) {
      window.location.assign("/cases/" + encodeURIComponent(event.target.data("case_id")));
    });
    container.setAttribute("data-ready", String(cy.nodes().length));
    return cy;
  }

  function start() {
    var container = document.getElementById("network-graph");
    var status = document.getElementById("graph-status");
    if (!container || !window.cytoscape) {
      return;
    }
    fetch(container.getAttribute("data-graph-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        window.dragonnetGraph = draw(container, body.elements);
        if (status) { status.textContent = body.elements.filter(function (e) { return e.group === "nodes"; }).length + " nodes"; }
      })
      .catch(function (err) {
        if (status) { status.textContent = "The graph could not be loaded (" + err.message + ")."; }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
