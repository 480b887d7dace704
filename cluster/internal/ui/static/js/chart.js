// chart.js — hand-written SVG line charts with time and value axes, a
// legend with the last values, and a hover read-out.

import {h, s, fmtNum} from './dom.js';

const W = 720, H = 230;
const PAD = {l: 56, r: 16, t: 14, b: 28};

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

// tick formats an axis value with the decimals its step needs.
function tick(v, step) {
  if (v >= 1000) return fmtNum(v);
  let dec = 0;
  while (dec < 6 && Math.abs(step * 10 ** dec - Math.round(step * 10 ** dec)) > 1e-6) dec++;
  return v === 0 ? '0' : v.toFixed(dec);
}

const TIME_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600].map(x => x * 1000);

function hhmm(ms, withSeconds) {
  const d = new Date(ms);
  const p = n => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}` + (withSeconds ? `:${p(d.getSeconds())}` : '');
}

/**
 * lineChart returns a figure: series is [{name, cls, points: [[timeMs, value], ...]}];
 * unit formats values ("/s", " ms"). The x axis spans [from, to] (ms). With stepped,
 * a line keeps its value until its next point (and the read-out gives the values
 * at the pointer). markers are [{t, v, glyph, cls, title}]: a glyph at (t, v) whose
 * title is its tooltip, drawn above the hover overlay.
 */
export function lineChart({title, series, unit = '', from, to, id, stepped = false, markers = []}) {
  const peak = Math.max(0, ...series.flatMap(se => se.points.map(p => p[1])).filter(Number.isFinite));
  if (unit === ' ms' && peak > 0 && peak < 0.1) {
    // sub-0.1 ms latencies read better in microseconds
    series = series.map(se => ({...se, points: se.points.map(([t, v]) => [t, v * 1000])}));
    unit = ' µs';
  }
  const all = series.flatMap(se => se.points);
  if (from === undefined) from = Math.min(...all.map(p => p[0]));
  if (to === undefined) to = Math.max(...all.map(p => p[0]));
  const fig = h('figure', {class: 'chart', id});
  fig.append(h('figcaption', null, title));
  if (!all.length || !(to > from)) {
    fig.append(h('div', {class: 'chart-empty'}, 'no data yet — points appear every few seconds'));
    return fig;
  }
  const maxV = Math.max(0, ...all.map(p => p[1]).filter(Number.isFinite));
  const step = maxV > 0 ? niceStep(maxV, 4) : 1;
  const top = maxV > 0 ? Math.ceil(maxV / step) * step : 1;
  const x = t => PAD.l + (t - from) / (to - from) * (W - PAD.l - PAD.r);
  const y = v => H - PAD.b - v / top * (H - PAD.t - PAD.b);
  const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': title});
  const grid = s('g', {class: 'grid'}), axes = s('g', {class: 'axis'});
  for (let v = 0; v <= top + step / 2; v += step) {
    grid.append(s('line', {x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v)}));
    axes.append(s('text', {x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end'}, tick(v, step) + unit));
  }
  const span = to - from;
  const tstep = TIME_STEPS.find(st => span / st <= 6) || TIME_STEPS[TIME_STEPS.length - 1];
  for (let t = Math.ceil(from / tstep) * tstep; t <= to; t += tstep) {
    grid.append(s('line', {x1: x(t), x2: x(t), y1: PAD.t, y2: H - PAD.b}));
    axes.append(s('text', {x: x(t), y: H - PAD.b + 17, 'text-anchor': 'middle'}, hhmm(t, tstep < 60000)));
  }
  axes.append(s('line', {class: 'axis-line', x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b}),
    s('line', {class: 'axis-line', x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: H - PAD.b}));
  svg.append(grid, axes);
  for (const se of series) {
    if (!se.points.length) continue;
    const pt = p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`;
    const d = se.points.map((p, i) => (i ? (stepped ? `H${x(p[0]).toFixed(1)} L` : 'L') : 'M') + pt(p)).join(' ');
    svg.append(s('path', {class: ['line', se.cls], d, 'data-series': se.name}));
    if (!stepped && se.points.length < 4) { // too few steps for a visible line: mark each point
      for (const p of se.points) svg.append(s('circle', {class: ['dot', se.cls], cx: x(p[0]), cy: y(p[1]), r: 3.5}));
    }
  }
  // hover: a vertical rule and the values of the nearest step
  const rule = s('line', {class: 'hover-rule', y1: PAD.t, y2: H - PAD.b, visibility: 'hidden'});
  const readout = h('div', {class: 'chart-readout', hidden: true});
  const overlay = s('rect', {x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b, class: 'overlay'});
  overlay.addEventListener('mousemove', ev => {
    const m = svg.getScreenCTM();
    if (!m) return;
    const at = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
    const t = from + (at.x - PAD.l) / (W - PAD.l - PAD.r) * (to - from);
    const near = stepped ? se => se.points.reduce((b, p) => (p[0] <= t ? p : b), null)
      : se => se.points.reduce((b, p) => (!b || Math.abs(p[0] - t) < Math.abs(b[0] - t) ? p : b), null);
    const first = near(series.find(se => se.points.length));
    if (!first) return;
    const when = stepped ? t : first[0];
    rule.setAttribute('x1', x(when));
    rule.setAttribute('x2', x(when));
    rule.setAttribute('visibility', 'visible');
    readout.hidden = false;
    readout.replaceChildren(h('b', null, hhmm(when, true)), ...series.map(se => {
      const p = near(se);
      return h('span', null, h('i', {class: ['sw', se.cls]}), `${se.name} ${p ? fmtNum(p[1]) + unit : '–'}`);
    }));
  });
  overlay.addEventListener('mouseleave', () => { rule.setAttribute('visibility', 'hidden'); readout.hidden = true; });
  svg.append(rule, overlay);
  for (const m of markers) {
    svg.append(s('g', {class: ['marker', m.cls], transform: `translate(${x(m.t).toFixed(1)},${y(m.v).toFixed(1)})`},
      s('title', null, m.title), s('text', {'text-anchor': 'middle', dy: '0.35em'}, m.glyph)));
  }
  fig.append(h('div', {class: 'chart-box'}, svg, readout));
  fig.append(h('div', {class: 'legend'}, series.map(se => {
    const last = se.points.length ? se.points[se.points.length - 1][1] : NaN;
    return h('span', {class: 'legend-item'}, h('i', {class: ['sw', se.cls]}), se.name, ' ', h('b', null, Number.isFinite(last) ? fmtNum(last) + unit : '–'));
  })));
  return fig;
}
