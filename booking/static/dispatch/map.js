/* The route map of the dispatcher's day view and of a technician's route sheet: reads the
   JSON in #routes-map-data (booking/services/routemap.py) and draws, with Leaflet, the depot
   and every route in it (start, numbered stops, end) in the technician's colour.
   Every text goes in as text (title attributes, textContent), never as HTML. Tiles are
   optional: without them (offline, or MAP_TILE_URL empty) the routes still show. */
(function () {
  "use strict";
  var holder = document.getElementById("routes-map");
  var source = document.getElementById("routes-map-data");
  if (!holder || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(holder, { scrollWheelZoom: false });
  if (data.tiles && data.tiles.url) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  }
  var points = [];

  // The marker's face is an element with its text set as text: Leaflet puts an element
  // given as `html` into the icon as it is, where a string would be parsed as HTML.
  function badge(text, className, color) {
    var face = document.createElement("span");
    face.className = "map-face";
    face.textContent = text;
    if (color) {
      face.style.backgroundColor = color;
    }
    return L.divIcon({ className: className, html: face, iconSize: [24, 24], iconAnchor: [12, 12] });
  }

  function place(latlng, icon, title) {
    return L.marker(latlng, { icon: icon, title: title }).addTo(map);
  }

  var depot = [data.depot.lat, data.depot.lon];
  place(depot, badge("D", "map-depot"), data.depot.label);
  points.push(depot);

  data.routes.forEach(function (route) {
    var line = [route.start];
    route.stops.forEach(function (stop) {
      line.push([stop.lat, stop.lon]);
    });
    line.push(route.end);
    L.polyline(line, { color: route.color, weight: 4, opacity: 0.85, className: "map-route" })
      .addTo(map);
    route.stops.forEach(function (stop) {
      var cls = "map-stop" + (stop.pinned ? " map-pinned" : "");
      place([stop.lat, stop.lon], badge(String(stop.number), cls, route.color), stop.label);
    });
    points = points.concat(line);
  });

  if (points.length > 1) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView(depot, 12);
  }
  holder.setAttribute("data-routes-drawn", String(data.routes.length));
})();
