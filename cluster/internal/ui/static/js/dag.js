// dag.js — the topology's DAG as an SVG picture, laid out here in layers
// (Sugiyama style): layers by the longest path from the spouts, long edges
// broken by dummy points, the order within layers by barycenter sweeps that
// keep the fewest crossings, then vertical positions that straighten edges
// without ever letting two boxes overlap.

import {h, s, replace, fmtNum, fmtMs, fmtRate, capacityColor} from './dom.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const TITLE_FONT = `600 13px ${FONT}`;
const SMALL_FONT = `11px ${FONT}`;
const NODE_H = 60;       // a component's box
const NODE_PAD = 12;     // text inside its box
const MIN_NODE_W = 130;
const DUMMY_H = 14;      // room for an edge passing through a layer
const V_GAP = 22;        // between boxes of a layer
const MIN_H_GAP = 70;    // between layers
const LABEL_H = 15;      // one line of an edge label
const MARGIN = 24;
const SPOUT_MARK = 22;   // the spout's tap mark, left of its text

let canvasCtx = null;

/** textWidth measures text in a CSS font with a canvas (the SVG uses the same fonts). */
export function textWidth(text, font) {
  if (!canvasCtx) canvasCtx = document.createElement('canvas').getContext('2d');
  canvasCtx.font = font;
  return canvasCtx.measureText(text).width;
}

/** groupingLabel: "fields(word, user)", "shuffle", with the stream when it is not "default". */
export function groupingLabel(st) {
  let g = st.grouping || 'shuffle';
  if (st.fields && st.fields.length) g += '(' + st.fields.join(', ') + ')';
  return st.stream && st.stream !== 'default' ? `${st.stream}: ${g}` : g;
}

function nodeLines(c) {
  const l2 = `${c.kind} · ${c.type} · ×${c.parallelism}`;
  let l3;
  if (c.kind === 'spout') l3 = `acked ${fmtRate(c.rates && c.rates.acked)} · ${fmtMs(c.complete_latency_ms)}`;
  else l3 = `capacity ${(c.capacity || 0).toFixed(3)} · ${fmtRate(c.rates && c.rates.emitted)}`;
  return [c.id, l2, l3];
}

/**
 * layout computes positions. comps: [{id, kind, ...}]; streams: [{from, to, ...}].
 * Returns {width, height, nodes: Map id -> {x, y, w, h, layer}, edges: [{from, to, labels, points, label: {x, y, w, h}, back}]}.
 */
export function layout(comps, streams) {
  const ids = comps.map(c => c.id);
  const known = new Set(ids);
  // merge parallel streams between the same two components into one edge with several label lines
  const pairs = new Map();
  for (const st of streams) {
    if (!known.has(st.from) || !known.has(st.to) || st.from === st.to) continue;
    const k = st.from + '\u0000' + st.to;
    if (!pairs.has(k)) pairs.set(k, {from: st.from, to: st.to, labels: []});
    pairs.get(k).labels.push(groupingLabel(st));
  }
  const edges = [...pairs.values()];

  // 1. a topological order (Kahn; a cycle is broken at the node with the fewest inputs left)
  const indeg = new Map(ids.map(id => [id, 0]));
  const out = new Map(ids.map(id => [id, []]));
  for (const e of edges) { indeg.set(e.to, indeg.get(e.to) + 1); out.get(e.from).push(e); }
  const order = [], placed = new Set();
  const kindRank = c => (c.kind === 'spout' ? 0 : 1);
  const byId = new Map(comps.map(c => [c.id, c]));
  let ready = ids.filter(id => indeg.get(id) === 0).sort((a, b) => kindRank(byId.get(a)) - kindRank(byId.get(b)));
  const left = new Map(indeg);
  while (order.length < ids.length) {
    if (!ready.length) {
      let best = null;
      for (const id of ids) if (!placed.has(id) && (best === null || left.get(id) < left.get(best))) best = id;
      ready = [best];
    }
    const id = ready.shift();
    if (placed.has(id)) continue;
    placed.add(id);
    order.push(id);
    for (const e of out.get(id)) {
      if (placed.has(e.to)) continue;
      left.set(e.to, left.get(e.to) - 1);
      if (left.get(e.to) === 0) ready.push(e.to);
    }
  }
  const pos = new Map(order.map((id, i) => [id, i]));
  for (const e of edges) e.back = pos.get(e.from) > pos.get(e.to);

  // 2. layers: longest path from the sources
  const layer = new Map(ids.map(id => [id, 0]));
  for (const id of order) {
    for (const e of out.get(id)) if (!e.back) layer.set(e.to, Math.max(layer.get(e.to), layer.get(id) + 1));
  }
  // 3. dummy points for edges that span several layers (back edges are laid out reversed)
  const nLayers = Math.max(0, ...layer.values()) + 1;
  const layers = Array.from({length: nLayers}, () => []);
  const items = new Map(); // key -> {key, layer, real, id, h, w}
  for (const id of order) {
    const it = {key: id, layer: layer.get(id), real: true, id, up: [], down: []};
    items.set(id, it);
    layers[it.layer].push(it);
  }
  for (const e of edges) {
    // draw every edge from its lower layer to its higher one; a back edge gets its arrow reversed
    const up = layer.get(e.from) > layer.get(e.to) || (layer.get(e.from) === layer.get(e.to) && e.back);
    e.back = up;
    const [a, b] = up ? [e.to, e.from] : [e.from, e.to];
    let prev = items.get(a);
    e.chain = [prev];
    const la = layer.get(a), lb = layer.get(b);
    if (la === lb) { // a back edge inside one layer: push the target one layer down
      e.chain.push(items.get(b));
      continue;
    }
    for (let l = la + 1; l < lb; l++) {
      const d = {key: `${a}->${b}#${l}`, layer: l, real: false, up: [prev], down: []};
      prev.down.push(d);
      items.set(d.key, d);
      layers[l].push(d);
      e.chain.push(d);
      prev = d;
    }
    const last = items.get(b);
    prev.down.push(last);
    last.up.push(prev);
    e.chain.push(last);
  }

  // 4. order within layers: barycenter sweeps, keeping the order with the fewest crossings
  const index = () => layers.forEach(L => L.forEach((it, i) => { it.idx = i; }));
  index();
  const crossings = () => {
    let n = 0;
    for (let l = 0; l + 1 < layers.length; l++) {
      const segs = [];
      for (const it of layers[l]) for (const d of it.down) if (d.layer === l + 1) segs.push([it.idx, d.idx]);
      for (let i = 0; i < segs.length; i++) {
        for (let j = i + 1; j < segs.length; j++) {
          if ((segs[i][0] - segs[j][0]) * (segs[i][1] - segs[j][1]) < 0) n++;
        }
      }
    }
    return n;
  };
  let best = layers.map(L => L.slice()), bestX = crossings();
  const sweep = (l, dir) => {
    const L = layers[l];
    for (const it of L) {
      const nb = dir > 0 ? it.up.filter(x => x.layer === l - 1) : it.down.filter(x => x.layer === l + 1);
      it.bary = nb.length ? nb.reduce((a, x) => a + x.idx, 0) / nb.length : it.idx;
    }
    L.sort((a, b) => a.bary - b.bary || a.idx - b.idx);
    L.forEach((it, i) => { it.idx = i; });
  };
  for (let round = 0; round < 12 && bestX > 0; round++) {
    if (round % 2 === 0) for (let l = 1; l < layers.length; l++) sweep(l, +1);
    else for (let l = layers.length - 2; l >= 0; l--) sweep(l, -1);
    const x = crossings();
    if (x < bestX) { bestX = x; best = layers.map(L => L.slice()); }
  }
  layers.splice(0, layers.length, ...best);
  index();

  // 5. sizes: box widths from the measured text; each layer gap as wide as its widest label
  for (const it of items.values()) {
    if (it.real) {
      const [l1, l2] = nodeLines(byId.get(it.id));
      const widest = Math.max(textWidth(l1, TITLE_FONT), textWidth(l2, SMALL_FONT), textWidth('capacity 0.000 · 999.9k/s', SMALL_FONT),
        textWidth('acked 999.9k/s · 9999 ms', SMALL_FONT));
      // a spout's box has room for its mark on the left
      it.w = Math.max(MIN_NODE_W, Math.ceil(widest + 2 * NODE_PAD + 4)) + (byId.get(it.id).kind === 'spout' ? SPOUT_MARK : 0);
      it.h = NODE_H;
    } else {
      it.w = 0;
      it.h = DUMMY_H;
    }
  }
  const colW = layers.map(L => Math.max(0, ...L.map(it => it.w)));
  const gapW = layers.map(() => MIN_H_GAP);
  for (const e of edges) {
    e.labelW = Math.ceil(Math.max(...e.labels.map(t => textWidth(t, SMALL_FONT)))) + 12;
    e.labelH = e.labels.length * LABEL_H + 4;
    const l = e.chain[0].layer;
    gapW[l] = Math.max(gapW[l], e.labelW + 36);
  }
  const colX = [];
  let x = MARGIN;
  for (let l = 0; l < layers.length; l++) { colX.push(x); x += colW[l] + (l + 1 < layers.length ? gapW[l] : 0); }
  const width = x + MARGIN;

  // 6. vertical positions: pull each item toward its neighbours, never overlapping (least squares)
  const tallest = Math.max(0, ...layers.map(L => L.reduce((a, it) => a + it.h + V_GAP, -V_GAP)));
  for (const L of layers) {
    let y = (tallest - L.reduce((a, it) => a + it.h + V_GAP, -V_GAP)) / 2;
    for (const it of L) { it.y = y; y += it.h + V_GAP; }
  }
  const center = it => it.y + it.h / 2;
  // place: blocks of touching items, each block at the mean of its members' wishes (it._wish: the top they want)
  const place = L => {
    const blocks = [];
    for (const it of L) {
      let b = {items: [it], off: [0], height: it.h, top: it._wish};
      while (blocks.length) {
        const p = blocks[blocks.length - 1];
        if (p.top + p.height + V_GAP <= b.top) break;
        blocks.pop();
        const shift = p.height + V_GAP;
        const m = {items: p.items.concat(b.items), off: p.off.concat(b.off.map(o => o + shift)), height: shift + b.height};
        m.top = m.items.reduce((acc, x, k) => acc + x._wish - m.off[k], 0) / m.items.length;
        b = m;
      }
      blocks.push(b);
    }
    for (const b of blocks) b.items.forEach((it, k) => { it.y = b.top + b.off[k]; });
  };
  for (let round = 0; round < 8; round++) {
    const down = round % 2 === 0;
    const seq = down ? layers.map((_, i) => i) : layers.map((_, i) => layers.length - 1 - i);
    for (const l of seq) {
      const L = layers[l];
      const desired = L.map(it => {
        const nb = down ? it.up : it.down;
        const w = nb.length ? nb.reduce((a, n) => a + center(n), 0) / nb.length : center(it);
        return w;
      });
      L.forEach((it, i) => { it._wish = desired[i] - it.h / 2; });
      place(L);
    }
  }
  let minY = Infinity, maxY = -Infinity;
  for (const it of items.values()) { minY = Math.min(minY, it.y); maxY = Math.max(maxY, it.y + it.h); }
  if (!items.size) { minY = 0; maxY = 0; }
  const dy = MARGIN - minY;
  const nodes = new Map();
  for (const it of items.values()) {
    it.y += dy;
    it.x = colX[it.layer] + (colW[it.layer] - it.w) / 2;
    if (it.real) nodes.set(it.id, {x: it.x, y: it.y, w: it.w, h: it.h, layer: it.layer});
  }
  let height = maxY - minY + 2 * MARGIN;

  // 7. edge routes: ports spread along the boxes' sides, horizontal through the layers they cross
  const outs = new Map(), ins = new Map();
  for (const e of edges) {
    const a = e.chain[0], b = e.chain[e.chain.length - 1];
    (outs.get(a.key) || outs.set(a.key, []).get(a.key)).push(e);
    (ins.get(b.key) || ins.set(b.key, []).get(b.key)).push(e);
  }
  const port = (list, e, it, next) => {
    list.sort((p, q) => next(p).y - next(q).y);
    const k = list.length, i = list.indexOf(e);
    const step = Math.min(10, (it.h - 20) / Math.max(1, k));
    return center(it) + (i - (k - 1) / 2) * step;
  };
  for (const e of edges) {
    const c = e.chain, a = c[0], b = c[c.length - 1];
    const pts = [[a.x + a.w, port(outs.get(a.key), e, a, q => q.chain[1])]];
    for (let i = 1; i < c.length - 1; i++) {
      const d = c[i], cy = center(d);
      pts.push([colX[d.layer], cy], [colX[d.layer] + colW[d.layer], cy]);
    }
    pts.push([b.x, port(ins.get(b.key), e, b, q => q.chain[q.chain.length - 2])]);
    if (c.length === 2 && a.layer === b.layer) { // a back edge within a layer: a loop under the boxes
      const yb = Math.max(a.y + a.h, b.y + b.h) + 20;
      pts.splice(1, 0, [a.x + a.w + 20, yb], [b.x - 20, yb]);
      height = Math.max(height, yb + MARGIN);
    }
    e.points = pts;
    const [p0, p1] = [pts[0], pts[1]];
    e.label = {cx: colX[a.layer] + colW[a.layer] + gapW[a.layer] / 2, cy: (p0[1] + p1[1]) / 2, w: e.labelW, h: e.labelH};
    if (a.layer === nLayers - 1) e.label.cx = p0[0] + e.labelW / 2 + 10;
  }
  // labels of one gap must not overlap: spread them vertically, in order
  const byGap = new Map();
  for (const e of edges) {
    const l = e.chain[0].layer;
    (byGap.get(l) || byGap.set(l, []).get(l)).push(e);
  }
  for (const list of byGap.values()) {
    list.sort((p, q) => p.label.cy - q.label.cy);
    let bottom = -Infinity;
    for (const e of list) {
      const top = Math.max(e.label.cy - e.label.h / 2, bottom + 4);
      e.label.cy = top + e.label.h / 2;
      bottom = top + e.label.h;
      height = Math.max(height, bottom + MARGIN);
    }
  }
  if (!ids.length) height = 2 * MARGIN;
  return {width, height, nodes, edges, crossings: bestX};
}

function pathOf(pts) {
  let d = `M${pts[0][0].toFixed(1)},${pts[0][1].toFixed(1)}`;
  for (let i = 1; i < pts.length; i++) {
    const [x0, y0] = pts[i - 1], [x1, y1] = pts[i];
    if (Math.abs(y1 - y0) < 0.5) d += ` L${x1.toFixed(1)},${y1.toFixed(1)}`;
    else {
      const mx = (x0 + x1) / 2;
      d += ` C${mx.toFixed(1)},${y0.toFixed(1)} ${mx.toFixed(1)},${y1.toFixed(1)} ${x1.toFixed(1)},${y1.toFixed(1)}`;
    }
  }
  return d;
}

function structureKey(topo) {
  return JSON.stringify([topo.components.map(c => [c.id, c.kind, c.type, c.parallelism]),
    (topo.streams || []).map(st => [st.from, st.to, st.stream, st.grouping, st.fields])]);
}

/**
 * DagView draws a topology's DAG in container, with zoom buttons and a
 * legend. update(topo) redraws when the structure changed and otherwise
 * only recolours the boxes and refreshes their figures. onOpen(id) is
 * called when a box is clicked (or Enter is pressed on it).
 */
export class DagView {
  constructor(container, onOpen) {
    this.onOpen = onOpen;
    this.zoom = null; // null: automatic (fit the width, not below 0.6)
    this.key = '';
    this.scroll = h('div', {class: 'dag-scroll', id: 'dag-scroll'});
    this.scroll.addEventListener('wheel', ev => {
      if (!ev.ctrlKey) return;
      ev.preventDefault();
      this.setZoom(this.current() * (ev.deltaY < 0 ? 1.15 : 1 / 1.15));
    }, {passive: false});
    const btn = (label, title, f, id) => h('button', {type: 'button', class: 'btn btn-small', title, id, onclick: f}, label);
    this.zoomLabel = h('span', {class: 'zoom-label', id: 'dag-zoom'});
    replace(container,
      h('div', {class: 'dag-tools'},
        btn('−', 'zoom out (Ctrl+wheel)', () => this.setZoom(this.current() / 1.25), 'dag-zoom-out'),
        this.zoomLabel,
        btn('+', 'zoom in (Ctrl+wheel)', () => this.setZoom(this.current() * 1.25), 'dag-zoom-in'),
        btn('fit', 'fit the width', () => this.setZoom(this.fitZoom()), 'dag-zoom-fit'),
        btn('1:1', 'actual size', () => this.setZoom(1), 'dag-zoom-1'),
        legend()),
      this.scroll);
  }

  current() { return this.zoom ?? this.autoZoom(); }

  fitZoom() {
    const avail = Math.max(200, this.scroll.clientWidth - 4);
    return this.lay ? Math.min(2, avail / this.lay.width) : 1;
  }

  autoZoom() { return Math.max(0.6, Math.min(1, this.fitZoom())); }

  setZoom(z) {
    this.zoom = Math.max(0.2, Math.min(3, z));
    this.applyZoom();
  }

  applyZoom() {
    if (!this.svg || !this.lay) return;
    const z = this.current();
    this.svg.setAttribute('width', Math.ceil(this.lay.width * z));
    this.svg.setAttribute('height', Math.ceil(this.lay.height * z));
    this.zoomLabel.textContent = Math.round(z * 100) + '%';
  }

  update(topo) {
    const key = structureKey(topo);
    if (key !== this.key) {
      this.key = key;
      this.draw(topo);
    }
    this.refresh(topo);
  }

  draw(topo) {
    const lay = layout(topo.components, topo.streams || []);
    this.lay = lay;
    this.boxes = new Map();
    const svg = s('svg', {class: 'dag', viewBox: `0 0 ${lay.width} ${lay.height}`, role: 'img',
      'aria-label': `DAG of ${topo.name}: ${topo.components.length} components, ${lay.edges.length} edges`,
      'data-crossings': lay.crossings});
    svg.append(s('defs', null,
      s('marker', {id: 'dag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
        s('path', {d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead'}))));
    const gEdges = s('g', {class: 'edges'}), gLabels = s('g', {class: 'edge-labels'}), gNodes = s('g', {class: 'nodes'});
    for (const e of lay.edges) {
      const pts = e.back ? e.points.slice().reverse() : e.points;
      gEdges.append(s('path', {class: ['edge', e.back && 'edge-back'], d: pathOf(pts), 'marker-end': 'url(#dag-arrow)',
        'data-from': e.from, 'data-to': e.to}, s('title', null, `${e.from} → ${e.to}: ${e.labels.join('; ')}`)));
      const L = e.label, top = L.cy - L.h / 2;
      gLabels.append(s('g', {class: 'edge-label', 'data-from': e.from, 'data-to': e.to},
        s('rect', {x: L.cx - L.w / 2, y: top, width: L.w, height: L.h, rx: 3}),
        e.labels.map((t, i) => s('text', {x: L.cx, y: top + 2 + LABEL_H * (i + 1) - 4, 'text-anchor': 'middle'}, t))));
    }
    for (const c of topo.components) {
      const n = lay.nodes.get(c.id);
      const spout = c.kind === 'spout';
      const rect = s('rect', {class: 'box', x: 0, y: 0, width: n.w, height: n.h, rx: spout ? n.h / 2 : 5});
      const cx = spout ? (n.w + SPOUT_MARK) / 2 : n.w / 2;
      const [t1, t2, t3] = [0, 1, 2].map(i => s('text', {x: cx, y: [20, 36, 51][i], 'text-anchor': 'middle', class: ['t' + (i + 1)]}));
      const title = s('title');
      const g = s('g', {class: ['node', spout ? 'spout' : 'bolt'], transform: `translate(${n.x.toFixed(1)},${n.y.toFixed(1)})`,
        'data-component': c.id, 'data-kind': c.kind, tabindex: 0, role: 'link', 'aria-label': `${c.kind} ${c.id}`},
      title, rect, spout && s('path', {class: 'spout-mark', d: `M16,${n.h / 2 - 7} l10,7 l-10,7 z`}), t1, t2, t3);
      g.addEventListener('click', () => this.onOpen(c.id));
      g.addEventListener('keydown', ev => { if (ev.key === 'Enter') this.onOpen(c.id); });
      gNodes.append(g);
      this.boxes.set(c.id, {g, rect, t: [t1, t2, t3], title});
    }
    svg.append(gEdges, gLabels, gNodes);
    const first = !this.svg;
    this.svg = svg;
    replace(this.scroll, svg);
    this.applyZoom();
    if (first) { // start with the spouts in view (a wide layer may push them far down)
      const tops = topo.components.filter(c => c.kind === 'spout').map(c => lay.nodes.get(c.id).y);
      if (tops.length) this.scroll.scrollTop = Math.max(0, Math.min(...tops) * this.current() - 40);
    }
  }

  refresh(topo) {
    let worst = null;
    for (const c of topo.components) if (c.kind !== 'spout' && (!worst || c.capacity > worst.capacity)) worst = c;
    for (const c of topo.components) {
      const b = this.boxes.get(c.id);
      if (!b) continue;
      nodeLines(c).forEach((t, i) => { b.t[i].textContent = t; });
      if (c.kind !== 'spout') {
        b.rect.style.fill = capacityColor(c.capacity);
        b.rect.style.stroke = capacityColor(c.capacity, 38);
      }
      const hot = c.kind !== 'spout' && worst === c && c.capacity >= 0.5;
      b.g.classList.toggle('bottleneck', hot);
      b.g.dataset.capacity = (c.capacity || 0).toFixed(3);
      b.title.textContent = `${c.id} (${c.kind}, ${c.type}) — ${c.parallelism} task(s)\n` +
        `emitted ${fmtNum(c.emitted)}, acked ${fmtNum(c.acked)}, failed ${fmtNum(c.failed)}\n` +
        (c.kind === 'spout' ? `complete latency ${fmtMs(c.complete_latency_ms)}` :
          `capacity ${(c.capacity || 0).toFixed(3)}, execute ${fmtMs(c.execute_latency_ms)}, process ${fmtMs(c.process_latency_ms)}`) +
        (hot ? '\nthe busiest bolt: the likely bottleneck' : '') + '\nclick to open';
    }
  }
}

function legend() {
  const stops = [0, 0.25, 0.5, 0.75, 1].map(v => capacityColor(v * 0.9)).join(', ');
  return h('div', {class: 'dag-legend', id: 'dag-legend'},
    h('span', {class: 'legend-item'}, h('span', {class: 'sw sw-spout'}), 'spout'),
    h('span', {class: 'legend-item'}, 'bolt capacity ',
      h('span', {class: 'sw-grad', style: {background: `linear-gradient(to right, ${stops})`}}),
      h('span', {class: 'grad-ticks'}, h('span', null, '0'), h('span', null, '0.5'), h('span', null, '≥0.9'))),
    h('span', {class: 'legend-item hint', title: 'the fraction of the last 10 minutes the bolt\'s executors were busy; near 1, the bolt is the bottleneck'},
      'capacity: busy share of the last 10 min'));
}
