// nndyn's page player (render/web/page.py writes it into every exported page).
// It unpacks the run's positions and gives plotly.js the frames of the snapshot being
// looked at; the layer slider and Play are plotly.js's own. Nothing is fetched.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("nndyn-data").textContent);
  var meta = DATA.meta;
  var gd = document.getElementById("nndyn-flow");
  var cache = {};
  var snapshot = meta.snapshot;
  var layer = DATA.figure.layout.sliders[0].active;
  var wanted = 0;
  var IMMEDIATE = { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } };

  function bytesOf(b64) {
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function inflate(b64) {
    var stream = new Blob([bytesOf(b64)]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (buf) { return new Uint8Array(buf); });
  }

  // Snapshot j's positions as a Float32Array indexed [(dim * V + vertex) * L + layer].
  function positions(j) {
    if (cache[j]) return Promise.resolve(cache[j]);
    var s = DATA.snaps[j];
    return inflate(s.blob).then(function (planes) {
      var n = planes.length / 2, L = meta.layers.length;
      var out = new Float32Array(n);
      var step = s.span / meta.levels;
      for (var start = 0; start < n; start += L) {
        var d = Math.floor(start / ((meta.nPoints + meta.nGrid) * L));
        var q = 0;
        for (var l = 0; l < L; l++) {
          var i = start + l;
          q = (q + (planes[i] | (planes[n + i] << 8))) << 16 >> 16;  // int16, wrapping
          out[i] = q === meta.notDrawn ? NaN : s.lo[d] + q * step;
        }
      }
      cache[j] = out;
      return out;
    });
  }

  function coords(P, vertices, l) {
    var V = meta.nPoints + meta.nGrid, L = meta.layers.length, keys = "xyz", out = {};
    for (var d = 0; d < meta.dims; d++) {
      var a = new Float32Array(vertices.length);
      for (var m = 0; m < vertices.length; m++) {
        var v = vertices[m];
        a[m] = v < 0 ? NaN : P[(d * V + v) * L + l];
      }
      out[keys[d]] = a;
    }
    return out;
  }

  var byClass = meta.pointTraces.map(function (_, k) {
    var idx = [];
    meta.classOf.forEach(function (c, i) { if (c === k) idx.push(i); });
    return idx;
  });
  var gridVertices = meta.path.map(function (v) { return v < 0 ? -1 : meta.nPoints + v; });

  function framesFor(j) {
    return positions(j).then(function (P) {
      return DATA.snaps[j].frames.map(function (f, l) {
        var data = f.data.map(function (entry, i) {
          var t = f.traces[i], k = meta.pointTraces.indexOf(t);
          if (k >= 0) return Object.assign({}, entry, coords(P, byClass[k], l));
          if (t === meta.gridTrace) return Object.assign({}, entry, coords(P, gridVertices, l));
          return entry;
        });
        return { name: f.name, data: data, traces: f.traces, layout: f.layout };
      });
    });
  }

  function showLayer(l) {
    return Plotly.animate(gd, [meta.layers[l]], IMMEDIATE);
  }

  function setSnapshot(j) {
    var token = ++wanted;
    return framesFor(j).then(function (frames) {
      if (token !== wanted) return null;  // a newer choice came in meanwhile
      snapshot = j;
      var old = gd._transitionData._frames.map(function (_, i) { return i; });
      return Plotly.deleteFrames(gd, old)
        .then(function () { return Plotly.addFrames(gd, frames); })
        .then(function () { return Plotly.relayout(gd, DATA.snaps[j].layout); })
        .then(function () { return showLayer(layer); });
    });
  }

  function fail(e) {
    gd.textContent = "This page could not be drawn: " + e + ". It needs a current Chromium or Firefox.";
    throw e;
  }

  var fig = DATA.figure;
  var ready = Plotly.newPlot(gd, fig.data, fig.layout, { responsive: true, displaylogo: false })
    .then(function () { return framesFor(snapshot); })
    .then(function (frames) { return Plotly.addFrames(gd, frames); })
    .then(function () {
      gd.on("plotly_sliderchange", function (ev) {
        if (ev.slider.name === "snapshot") setSnapshot(ev.step._index);
        else layer = ev.step._index;
      });
      gd.on("plotly_animatingframe", function (ev) {
        var l = meta.layers.indexOf(ev.name);
        if (l >= 0) layer = l;
      });
      document.body.setAttribute("data-nndyn", "ready");
    })
    .catch(fail);

  // for scripts and tests: what is shown, and the same moves a reader makes
  window.nndyn = {
    ready: ready,
    state: function () { return { snapshot: snapshot, layer: layer, frames: gd._transitionData._frames.length }; },
    setSnapshot: setSnapshot,
    setLayer: function (l) { layer = l; return showLayer(l); },
  };
})();
