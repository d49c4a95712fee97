// nndyn's page player (render/web/page.py writes it into every exported page).
// It unpacks the run's positions into the frames (render/web/figure.frames) of the
// snapshot being looked at, and shows a layer by restyling only the traces its frame
// names: Plotly.animate redraws the whole figure per frame, a few times slower. The
// sliders and buttons are plotly.js's; their events come here. Nothing is fetched.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("nndyn-data").textContent);
  var meta = DATA.meta;
  var gd = document.getElementById("nndyn-flow");
  var cache = {};
  var snapshot = meta.snapshot;
  var layer = DATA.figure.layout.sliders[0].active;
  var wanted = 0;
  var current = [];

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
      var a = new Array(vertices.length);  // plain arrays: WebGL lines take NaN gaps from them
      for (var m = 0; m < vertices.length; m++) {
        var v = vertices[m];
        a[m] = v < 0 ? null : P[(d * V + v) * L + l];
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

  // Layer l of the shown snapshot: one restyle of the traces its frame names (a value a
  // frame leaves out stays as it is), the note relaid only when it changes. In 3-D a move
  // that only moves the points and the grid (every layer but the input and the output)
  // takes the fast path (`moveIn3d`).
  var shownNote = null, applied = {};
  function showLayer(l) {
    var f = current[l], keys = {}, upd = {}, data = [], traces = [];
    f.data.forEach(function (e, i) {
      // what is already so (a flag, a trace hidden before and after) is not sent again
      var t = f.traces[i], was = applied[t] || (applied[t] = {}), entry = {};
      Object.keys(e).forEach(function (k) {
        if (k === "type" || (typeof e[k] !== "object" && was[k] === e[k])) return;
        entry[k] = was[k] = e[k];
        keys[k] = true;
      });
      if (Object.keys(entry).length) { data.push(entry); traces.push(t); }
    });
    Object.keys(keys).forEach(function (k) { upd[k] = data.map(function (e) { return e[k]; }); });
    layer = l;
    var done;
    if (!traces.length) done = Promise.resolve();
    else if (moveIn3d(data, traces)) done = Promise.resolve();
    else done = Plotly.restyle(gd, upd, traces);
    var note = JSON.stringify(f.layout.annotations);
    if (note !== shownNote) {
      shownNote = note;
      done = done.then(function () { return Plotly.relayout(gd, { annotations: f.layout.annotations }); });
    }
    return done.then(function () { gd.emit("nndyn_layer", { layer: l, fast: lastFast }); });
  }

  // The 3-D fast path: new positions straight into plotly.js's WebGL objects of the
  // traces (its scene's `traces[uid].update`, what Plotly.restyle ends in), and gd.data
  // kept the same. Plotly.restyle of x, y, z replots the whole figure first (defaults,
  // sliders, legend, title): ~70 ms of script a move in headless Chromium. Only when
  // every change is a point or grid trace's coordinates and plotly.js has the objects
  // where this plotly.js version keeps them; otherwise (the input, the output, another
  // plotly.js) false, and the caller restyles.
  var lastFast = false;
  function moveIn3d(data, traces) {
    lastFast = false;
    var scene = meta.dims === 3 && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (!scene || !scene.traces || !scene.glplot) return false;
    var objs = [];
    for (var i = 0; i < traces.length; i++) {
      var t = traces[i], full = gd._fullData[t], only = Object.keys(data[i]);
      var coordsOnly = only.every(function (k) { return k === "x" || k === "y" || k === "z"; });
      var mover = t === meta.gridTrace || meta.pointTraces.indexOf(t) >= 0;
      var obj = full && full.visible === true && scene.traces[full.uid];
      if (!coordsOnly || !mover || !obj || typeof obj.update !== "function") return false;
      objs.push(obj);
    }
    traces.forEach(function (t, i) {
      var full = gd._fullData[t];
      ["x", "y", "z"].forEach(function (k) { gd.data[t][k] = full[k] = data[i][k]; });
      objs[i].update(full);
    });
    scene.glplot.redraw();
    lastFast = true;
    return true;
  }

  // Play: one layer every frame time, the slider following; from the start at the end.
  var timer = null;
  function play() {
    if (timer !== null) return;
    if (layer >= meta.layers.length - 1) layer = -1;
    var tick = function () {
      if (layer >= meta.layers.length - 1) { timer = null; return; }
      var t0 = performance.now(), next = layer + 1;
      showLayer(next).then(function () { return Plotly.relayout(gd, { "sliders[0].active": next }); })
        .then(function () {
          if (timer !== null) timer = setTimeout(tick, Math.max(0, meta.frameMs - (performance.now() - t0)));
        });
    };
    timer = setTimeout(tick, 0);
  }
  function pause() { if (timer !== null) clearTimeout(timer); timer = null; }

  function setSnapshot(j) {
    var token = ++wanted;
    return framesFor(j).then(function (frames) {
      if (token !== wanted) return null;  // a newer choice came in meanwhile
      snapshot = j;
      current = frames;
      return Plotly.relayout(gd, DATA.snaps[j].layout)
        .then(function () { return showLayer(layer); });
    });
  }

  function fail(e) {
    gd.textContent = "This page could not be drawn: " + e + ". It needs a current Chromium or Firefox.";
    throw e;
  }

  var fig = DATA.figure;
  // WebGL at the screen's own pixel density: plotly.js's default of 2 draws a 3-D scene
  // with four times the pixels on an ordinary screen (software WebGL draws on the CPU)
  var glRatio = Math.min(2, Math.max(1, window.devicePixelRatio || 1));
  var config = { responsive: true, displaylogo: false, plotGlPixelRatio: glRatio };
  var ready = Plotly.newPlot(gd, fig.data, fig.layout, config)
    .then(function () { return framesFor(snapshot); })
    .then(function (frames) { current = frames; })
    .then(function () {
      gd.on("plotly_sliderchange", function (ev) {
        if (ev.slider.name === "snapshot") setSnapshot(ev.step._index);
        else if (ev.interaction) { pause(); showLayer(ev.step._index); }
      });
      gd.on("plotly_buttonclicked", function (ev) {
        if (ev.button.label.indexOf("Play") >= 0) play(); else pause();
      });
      document.body.setAttribute("data-nndyn", "ready");
    })
    .catch(fail);

  // for scripts and tests: what is shown, and the same moves a reader makes
  window.nndyn = {
    ready: ready,
    state: function () {
      return { snapshot: snapshot, layer: layer, frames: current.length, fast: lastFast };
    },
    setSnapshot: function (j) {
      return Plotly.relayout(gd, { "sliders[1].active": j }).then(function () { return setSnapshot(j); });
    },
    setLayer: function (l) {
      return showLayer(l).then(function () { return Plotly.relayout(gd, { "sliders[0].active": l }); });
    },
    play: play,
    pause: pause,
  };
})();
