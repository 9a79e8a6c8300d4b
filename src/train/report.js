/* report.js — the charts of report.html (src/train/report.c inlines this file, and the run's metrics as
 * the JSON object HP_DATA, into the page: nothing is fetched at view time). Plain JavaScript and SVG.
 *
 * Every chart whose metrics the run has is drawn into #charts; afterwards the page carries
 * data-charts (charts planned), data-charts-drawn (charts finished) and data-script-errors (errors
 * caught), which the headless-browser test reads. Hovering a chart shows the values at the nearest
 * step; the smoothing slider applies TensorBoard's debiased exponential moving average.
 *
 * Several runs (HP_DATA.overlay, `hiper report DIR1 DIR2 ... --out PAGE`): HP_DATA.runs holds each run's
 * label and rows; one chart per metric, one colour per label, every run a thin line (class "run") and
 * each label's mean at every step over its runs that reached that step a thick one (class "mean"). */
(function () {
  'use strict';
  var body = document.body;
  var errors = 0;
  window.addEventListener('error', function () {
    errors += 1;
    body.setAttribute('data-script-errors', String(errors));
  });
  body.setAttribute('data-script-errors', '0');

  var SVGNS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#57606a'];
  var OVERLAY = !!(window.HP_DATA && window.HP_DATA.overlay);
  var RUNS = OVERLAY ? (window.HP_DATA.runs || []) : [];
  var rows = OVERLAY ? [].concat.apply([], RUNS.map(function (r) { return r.rows || []; }))
                     : (window.HP_DATA && window.HP_DATA.rows) || [];
  var train = rows.filter(function (r) { return r.kind === 'train'; });
  var val = rows.filter(function (r) { return r.kind === 'val'; });

  /* The chart list: series are [key, label, 'train' | 'val']; prefix charts take every key with it. */
  function typeSeries(list, prefix, src) {
    var seen = {}, out = [];
    list.forEach(function (r) {
      Object.keys(r).forEach(function (k) {
        if (k.indexOf(prefix) === 0 && !seen[k]) { seen[k] = true; out.push([k, k.slice(prefix.length), src]); }
      });
    });
    return out.sort(function (a, b) { return a[1] < b[1] ? -1 : 1; });
  }
  var SPECS = [
    {title: 'Success rate', pct: true, series: [['success', 'training', 'train'], ['val_success', 'validation', 'val']]},
    {title: 'Validation success per task type', pct: true, series: typeSeries(val, 'val_success_', 'val')},
    {title: 'Training success per task type', pct: true, series: typeSeries(train, 'success_', 'train')},
    {title: 'Mean episode reward', series: [['reward', 'reward', 'train']]},
    {title: 'Learning rate', log: true, series: [['actor_lr', 'actor', 'train'], ['critic_lr', 'critic', 'train']]},
    {title: 'Actor gradient norm (before clipping)', series: [['actor_grad_norm', 'actor', 'train']]},
    {title: 'Critic gradient norm (before clipping)', series: [['critic_grad_norm', 'critic', 'train']]},
    {title: 'Response length (tokens per turn)', series: [['response_length', 'mean', 'train']]},
    {title: 'Time per step by phase (s)', stacked: true, series: [['t_rollout', 'rollout', 'train'],
      ['t_score', 'scoring', 'train'], ['t_adv', 'advantages', 'train'], ['t_critic', 'critic update', 'train'],
      ['t_actor', 'actor update', 'train']]},
    {title: 'Policy-gradient loss', series: [['pg_loss', 'pg_loss', 'train']]},
    {title: 'Value loss per head', series: [['vf_loss_low', 'low', 'train'], ['vf_loss_high', 'high', 'train'],
      ['vf_loss_term', 'term', 'train']]},
    {title: 'KL to the reference policy', series: [['kl', 'kl', 'train']]},
    {title: 'Entropy', series: [['entropy', 'entropy', 'train']]},
    {title: 'Clip fraction', series: [['clipfrac', 'upper', 'train'], ['clipfrac_lower', 'lower', 'train']]},
    {title: 'Explained variance per head', series: [['explained_var_low', 'low', 'train'],
      ['explained_var_high', 'high', 'train'], ['explained_var_term', 'term', 'train']]},
    {title: 'Switch rate (HiPER)', pct: true, series: [['switch_rate', 'switch rate', 'train']]},
    {title: 'Invalid-action rate', pct: true, series: [['invalid_rate', 'training', 'train'],
      ['val_invalid_rate', 'validation', 'val']]},
    {title: 'Turns per episode', series: [['mean_turns', 'training', 'train'], ['val_turns', 'validation', 'val']]},
    {title: 'Rollout throughput (tokens / s)', series: [['tokens_per_s', 'tokens/s', 'train']]}
  ];

  function points(key, src, from) {
    var list = from ? from.filter(function (r) { return src === 'val' ? r.kind === 'val' : r.kind === 'train'; })
                    : src === 'val' ? val : train, out = [];
    list.forEach(function (r) {
      if (typeof r[key] === 'number' && typeof r.step === 'number') out.push([r.step, r[key]]);
    });
    return out;
  }

  /* TensorBoard's smoothing: an exponential moving average, debiased for its start. */
  function smooth(pts, w) {
    if (!(w > 0)) return pts;
    var last = 0, n = 0;
    return pts.map(function (p) {
      n += 1;
      last = last * w + (1 - w) * p[1];
      return [p[0], last / (1 - Math.pow(w, n))];
    });
  }

  function niceTicks(lo, hi, count) {
    var span = hi - lo;
    var step = Math.pow(10, Math.floor(Math.log10(span / count)));
    var err = span / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  function fmt(v, pct) {
    if (pct) return (100 * v).toFixed(1) + '%';
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(e);
    return e;
  }

  var W = 460, H = 250, L = 60, R = 14, B = 34;
  var charts = [];

  /* Title, grid, ticks and axes of a chart holding the points xs, ys; returns the scales. */
  function frame(svg, spec, xs, ys, T) {
    var log = !spec.stacked && spec.log && ys.every(function (y) { return y > 0; });
    var ty = log ? function (y) { return Math.log10(y); } : function (y) { return y; };
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys.map(ty)), y1 = Math.max.apply(null, ys.map(ty));
    if (spec.stacked || spec.pct) y0 = Math.min(y0, 0);
    if (spec.pct) y1 = Math.max(y1, Math.min(1, y1 * 1.05 + 0.01));
    if (x1 - x0 < 1) { x0 -= 0.5; x1 += 0.5; }
    if (y1 - y0 < 1e-12) { var pad = Math.abs(y0) * 0.1 || (log ? 0.5 : 1); y0 -= pad; y1 += pad; }
    var sx = function (x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    var sy = function (y) { return H - B - (ty(y) - y0) / (y1 - y0) * (H - B - T); };
    var syt = function (t) { return H - B - (t - y0) / (y1 - y0) * (H - B - T); };
    el('text', {x: L, y: 15, 'class': 'title'}, svg).textContent = spec.title;
    /* grid and ticks */
    var yt = log ? niceTicks(Math.floor(y0), Math.ceil(y1), Math.max(1, Math.ceil(y1) - Math.floor(y0))).filter(function (t) {
      return t >= y0 - 1e-9 && t <= y1 + 1e-9;
    }) : niceTicks(y0, y1, 5);
    if (log && yt.length < 2) yt = [y0, y1];
    yt.forEach(function (t) {
      el('line', {x1: L, x2: W - R, y1: syt(t), y2: syt(t), 'class': 'grid'}, svg);
      el('text', {x: L - 5, y: syt(t) + 3, 'class': 'tick', 'text-anchor': 'end'}, svg).textContent =
        fmt(log ? Math.pow(10, t) : t, spec.pct);
    });
    niceTicks(x0, x1, 6).filter(function (t) { return t === Math.round(t); }).forEach(function (t) {
      el('line', {x1: sx(t), x2: sx(t), y1: T, y2: H - B, 'class': 'grid'}, svg);
      el('text', {x: sx(t), y: H - B + 13, 'class': 'tick', 'text-anchor': 'middle'}, svg).textContent = String(t);
    });
    el('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, 'class': 'axis'}, svg);
    el('line', {x1: L, x2: L, y1: T, y2: H - B, 'class': 'axis'}, svg);
    el('text', {x: W - R, y: H - 4, 'class': 'tick', 'text-anchor': 'end'}, svg).textContent = 'step';
    return {sx: sx, sy: sy, syt: syt, x0: x0, x1: x1};
  }


  function draw(c, w) {
    var svg = c.svg;
    var T = 36 + 12 * (Math.ceil(c.series.length / 4) - 1); /* room for the legend's rows */
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var data = c.series.map(function (s) { return {s: s, raw: s.pts, pts: smooth(s.pts, c.spec.stacked ? 0 : w)}; });
    if (c.spec.stacked) { /* stack the (smoothed) components on the union of their steps */
      var acc = {};
      data.forEach(function (d) {
        var sm = smooth(d.raw, w);
        d.lo = sm.map(function (p) { return [p[0], acc[p[0]] || 0]; });
        d.pts = sm.map(function (p) { acc[p[0]] = (acc[p[0]] || 0) + p[1]; return [p[0], acc[p[0]]]; });
      });
    }
    var xs = [], ys = [];
    data.forEach(function (d) {
      d.pts.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); });
      if (!c.spec.stacked) d.raw.forEach(function (p) { ys.push(p[1]); });
      if (d.lo) d.lo.forEach(function (p) { ys.push(p[1]); });
    });
    var f = frame(svg, c.spec, xs, ys, T), sx = f.sx, sy = f.sy, syt = f.syt;
    /* series */
    data.forEach(function (d, i) {
      var col = COLORS[i % COLORS.length];
      var line = function (pts) { return pts.map(function (p) { return sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1); }).join(' '); };
      if (c.spec.stacked) {
        var poly = d.pts.map(function (p) { return [sx(p[0]), sy(p[1])]; })
          .concat(d.lo.slice().reverse().map(function (p) { return [sx(p[0]), syt(p[1])]; }));
        el('polygon', {points: poly.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' '),
          fill: col, 'fill-opacity': 0.55, stroke: col, 'stroke-width': 1}, svg);
      } else {
        if (w > 0) el('polyline', {points: line(d.raw), fill: 'none', stroke: col, 'stroke-opacity': 0.25, 'stroke-width': 1.2}, svg);
        el('polyline', {points: line(d.pts), fill: 'none', stroke: col, 'stroke-width': 1.8}, svg);
        if (d.pts.length <= 80) d.pts.forEach(function (p) { el('circle', {cx: sx(p[0]), cy: sy(p[1]), r: 2.2, fill: col}, svg); });
      }
      var ly = 30 + 12 * Math.floor(i / 4);
      el('rect', {x: L + 6 + 96 * (i % 4), y: ly - 7, width: 8, height: 8, fill: col}, svg);
      el('text', {x: L + 17 + 96 * (i % 4), y: ly, 'class': 'legend'}, svg).textContent = d.s.label;
    });
    /* hover: a guide line and the values at the nearest step */
    hover(svg, T, xs, f, function (best) {
      var lines = [];
      data.forEach(function (d) {
        var k = -1;
        d.raw.forEach(function (p, j) { if (p[0] === best) k = j; });
        if (k < 0) return;
        var v = d.raw[k][1], s = c.spec.stacked ? v : d.pts[k][1];
        lines.push(d.s.label + ': ' + fmt(v, c.spec.pct) + (w > 0 && !c.spec.stacked ? ' (smoothed ' + fmt(s, c.spec.pct) + ')' : ''));
      });
      return lines;
    });
  }

  /* A guide line and a tip with linesAt(step) at the step nearest the pointer. */
  function hover(svg, T, xs, f, linesAt) {
    var guide = el('line', {x1: 0, x2: 0, y1: T, y2: H - B, 'class': 'guide', visibility: 'hidden'}, svg);
    var hit = el('rect', {x: L, y: T, width: W - L - R, height: H - B - T, fill: 'transparent'}, svg);
    var steps = xs.filter(function (x, i) { return xs.indexOf(x) === i; }).sort(function (a, b) { return a - b; });
    hit.addEventListener('mousemove', function (ev) {
      var box = svg.getBoundingClientRect();
      var x = f.x0 + (ev.clientX - box.left - L) / (W - L - R) * (f.x1 - f.x0);
      var best = steps[0];
      steps.forEach(function (s) { if (Math.abs(s - x) < Math.abs(best - x)) best = s; });
      guide.setAttribute('x1', f.sx(best));
      guide.setAttribute('x2', f.sx(best));
      guide.setAttribute('visibility', 'visible');
      tip.textContent = ['step ' + best].concat(linesAt(best)).join('\n');
      tip.style.display = 'block';
      tip.style.left = (ev.pageX + 12) + 'px';
      tip.style.top = (ev.pageY + 12) + 'px';
    });
    hit.addEventListener('mouseleave', function () { guide.setAttribute('visibility', 'hidden'); tip.style.display = 'none'; });
  }

  /* ---- several runs: one chart per metric, a colour per label, thin runs and a thick mean ---------- */
  var LABELS = [];
  RUNS.forEach(function (r) { if (LABELS.indexOf(r.label) < 0) LABELS.push(r.label); });
  var OSPECS = [
    {title: 'Training success', key: 'success', src: 'train', pct: true},
    {title: 'Validation success', key: 'val_success', src: 'val', pct: true}
  ].concat(typeSeries(val, 'val_success_', 'val').map(function (s) {
    return {title: 'Validation success: ' + s[1], key: s[0], src: 'val', pct: true};
  })).concat([
    {title: 'Mean episode reward', key: 'reward', src: 'train'},
    {title: 'Invalid-action rate', key: 'invalid_rate', src: 'train', pct: true},
    {title: 'Switch rate (HiPER)', key: 'switch_rate', src: 'train', pct: true},
    {title: 'Turns per episode', key: 'mean_turns', src: 'train'},
    {title: 'KL to the reference policy', key: 'kl', src: 'train'},
    {title: 'Entropy', key: 'entropy', src: 'train'},
    {title: 'Policy-gradient loss', key: 'pg_loss', src: 'train'},
    {title: 'Actor gradient norm (before clipping)', key: 'actor_grad_norm', src: 'train'},
    {title: 'Explained variance (low head)', key: 'explained_var_low', src: 'train'},
    {title: 'Response length (tokens per turn)', key: 'response_length', src: 'train'},
    {title: 'Seconds per step', key: 't_step', src: 'train'}
  ]);

  function drawOverlay(c, w) {
    var svg = c.svg, spec = c.spec;
    var T = 36 + 12 * (Math.ceil(LABELS.length / 4) - 1);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var runs = c.runs.map(function (r) { return {label: r.label, seed: r.seed, raw: r.pts, pts: smooth(r.pts, w)}; });
    var means = LABELS.map(function (lab) {
      var sum = {}, cnt = {};
      runs.forEach(function (r) {
        if (r.label !== lab) return;
        r.pts.forEach(function (p) { sum[p[0]] = (sum[p[0]] || 0) + p[1]; cnt[p[0]] = (cnt[p[0]] || 0) + 1; });
      });
      var pts = Object.keys(sum).map(Number).sort(function (a, b) { return a - b; })
        .map(function (x) { return [x, sum[x] / cnt[x], cnt[x]]; });
      return {label: lab, pts: pts, n: runs.filter(function (r) { return r.label === lab; }).length};
    });
    var xs = [], ys = [];
    runs.forEach(function (r) { r.pts.concat(r.raw).forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    var f = frame(svg, spec, xs, ys, T);
    var line = function (pts) { return pts.map(function (p) { return f.sx(p[0]).toFixed(1) + ',' + f.sy(p[1]).toFixed(1); }).join(' '); };
    runs.forEach(function (r) {
      var col = COLORS[LABELS.indexOf(r.label) % COLORS.length];
      el('polyline', {points: line(r.pts), fill: 'none', stroke: col, 'stroke-opacity': 0.45, 'stroke-width': 1,
        'class': 'run'}, svg);
    });
    var slot = 0; /* the legend names the labels this chart has, in their colours */
    means.forEach(function (m, i) {
      if (!m.pts.length) return;
      var col = COLORS[i % COLORS.length];
      el('polyline', {points: line(m.pts), fill: 'none', stroke: col, 'stroke-width': 2.6, 'class': 'mean'}, svg);
      var ly = 30 + 12 * Math.floor(slot / 4);
      el('rect', {x: L + 6 + 96 * (slot % 4), y: ly - 7, width: 8, height: 8, fill: col}, svg);
      el('text', {x: L + 17 + 96 * (slot % 4), y: ly, 'class': 'legend'}, svg).textContent = m.label + ' (' + m.n + ')';
      slot += 1;
    });
    hover(svg, T, xs, f, function (best) {
      var lines = [];
      means.forEach(function (m) {
        m.pts.forEach(function (p) {
          if (p[0] === best) lines.push(m.label + ': ' + fmt(p[1], spec.pct) + ' (mean of ' + p[2] + (p[2] > 1 ? ' runs' : ' run') + ')');
        });
      });
      return lines;
    });
  }

  var tip = document.createElement('div');
  tip.className = 'tip';
  body.appendChild(tip);
  var host = document.getElementById('charts');
  if (OVERLAY) {
    OSPECS.forEach(function (spec) {
      var runs = RUNS.map(function (r) { return {label: r.label, seed: r.seed, pts: points(spec.key, spec.src, r.rows || [])}; })
        .filter(function (r) { return r.pts.length > 0; });
      if (!runs.length) return;
      var svg = el('svg', {width: W, height: H, 'class': 'chart', 'data-title': spec.title}, host);
      charts.push({spec: spec, runs: runs, svg: svg, draw: drawOverlay});
    });
    body.setAttribute('data-runs', String(RUNS.length));
    body.setAttribute('data-labels', String(LABELS.length));
  } else {
    SPECS.forEach(function (spec) {
      var series = spec.series.map(function (s) { return {key: s[0], label: s[1], pts: points(s[0], s[2])}; })
        .filter(function (s) { return s.pts.length > 0; });
      if (!series.length) return;
      var svg = el('svg', {width: W, height: H, 'class': 'chart', 'data-title': spec.title}, host);
      charts.push({spec: spec, series: series, svg: svg, draw: draw});
    });
  }
  body.setAttribute('data-charts', String(charts.length));
  var slider = document.getElementById('smooth'), shown = document.getElementById('smooth-value');
  function redraw() {
    var w = slider ? Number(slider.value) : 0;
    if (shown) shown.textContent = w.toFixed(2);
    var drawn = 0;
    charts.forEach(function (c) { c.draw(c, w); drawn += 1; });
    body.setAttribute('data-charts-drawn', String(drawn));
  }
  /* report.html#smooth=0.6 opens with that smoothing (for screenshots and the browser test) */
  var m = /smooth=([0-9.]+)/.exec(window.location.hash || '');
  if (slider && m) slider.value = m[1];
  if (slider) slider.addEventListener('input', redraw);
  if (!charts.length && host) host.textContent = 'No training steps in metrics.jsonl yet: no curves.';
  redraw();
}());
