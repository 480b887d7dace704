// topology.js — the topology page (DAG, component tables, charts, errors,
// Kafka partitions, sinks, actions) and the component page (its tasks).

import {get, post, enc, ApiError} from './api.js';
import {h, replace, table, num, badge, section, fmtInt, fmtNum, fmtRate, fmtMs, fmtBytes, fmtDuration, fmtTime, fmtAgo, capacityColor} from './dom.js';
import {DagView} from './dag.js';
import {lineChart} from './chart.js';
import {confirmAction, rebalanceForm, killForm, toast} from './dialogs.js';

const WINDOWS = [['10m', '10 min'], ['3h', '3 h'], ['all', 'all time']];
const SERIES_WINDOWS = [['10m', '10 min'], ['3h', '3 h']];

const topoLink = name => '#/topology/' + enc(name);
const compLink = (name, id) => `#/topology/${enc(name)}/component/${enc(id)}`;

// prefs survive polls and page changes (and reloads, in localStorage)
const prefs = (() => {
  let p = {};
  try { p = JSON.parse(localStorage.getItem('gale.prefs') || '{}'); } catch { p = {}; }
  return {
    get: (k, d) => (p[k] === undefined ? d : p[k]),
    set: (k, v) => { p[k] = v; try { localStorage.setItem('gale.prefs', JSON.stringify(p)); } catch { /* ignore */ } },
  };
})();

/** selector: a row of toggle buttons; value is read from prefs[key]. */
function selector(key, options, def, onChange, id) {
  const cur = prefs.get(key, def);
  return h('div', {class: 'seg', role: 'group', id},
    options.map(([v, label]) => h('button', {type: 'button', class: ['seg-btn', v === cur && 'on'], 'data-value': v, 'aria-pressed': String(v === cur),
      onclick: () => { prefs.set(key, v); onChange(v); }}, label)));
}

function windowOf(c, w) {
  return (c.windows || []).find(x => x.window === w) || {
    window: 'all', emitted: c.emitted, transferred: c.transferred, acked: c.acked, failed: c.failed, executed: c.executed,
    errors: c.errors, execute_latency_ms: c.execute_latency_ms, process_latency_ms: c.process_latency_ms,
    complete_latency_ms: c.complete_latency_ms, capacity: c.capacity,
  };
}

function lastError(c) {
  const e = (c.last_errors || []).slice().sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
  if (!e) return h('td', {class: 'muted'}, c.errors ? `${fmtInt(c.errors)} error(s)` : '');
  return h('td', {class: 'err-cell', title: `${fmtTime(e.time)} on ${e.worker || '?'} (task ${e.task}): ${e.message}`}, fmtAgo(e.time), ': ', e.message);
}

function capCell(v) {
  const td = num(Number((v || 0).toFixed(3)), (v || 0).toFixed(3));
  td.classList.add('cap');
  td.style.background = capacityColor(v);
  return td;
}

/** componentTables: Storm UI's spouts and bolts tables, over window w. */
function componentTables(topo, w) {
  const spouts = topo.components.filter(c => c.kind === 'spout');
  const bolts = topo.components.filter(c => c.kind !== 'spout');
  const idCell = c => h('td', null, h('a', {href: compLink(topo.name, c.id)}, h('b', null, c.id)));
  return [
    h('h3', null, 'Spouts'),
    table([{label: 'id'}, {label: 'type'}, {label: 'tasks', cls: 'num'}, {label: 'emitted', cls: 'num'}, {label: 'transferred', cls: 'num'},
      {label: 'complete latency', cls: 'num', title: 'mean time from emit to a complete tuple tree'}, {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'},
      {label: 'emitted/s', cls: 'num', title: 'last minute'}, {label: 'acked/s', cls: 'num'}, {label: 'failed/s', cls: 'num'}, {label: 'errors', cls: 'num'}, {label: 'last error'}],
    spouts.map(c => {
      const x = windowOf(c, w);
      return h('tr', {'data-row': c.id}, idCell(c), h('td', null, c.type), num((c.tasks || []).length), num(x.emitted, fmtNum(x.emitted)),
        num(x.transferred, fmtNum(x.transferred)), num(x.complete_latency_ms, fmtMs(x.complete_latency_ms)),
        num(x.acked, fmtNum(x.acked)), num(x.failed, fmtNum(x.failed)),
        num(c.rates.emitted, fmtRate(c.rates.emitted)), num(c.rates.acked, fmtRate(c.rates.acked)), num(c.rates.failed, fmtRate(c.rates.failed)),
        num(x.errors), lastError(c));
    }), {class: 'components', id: 'spouts-table', 'data-empty': 'no spouts'}),
    h('h3', null, 'Bolts'),
    table([{label: 'id'}, {label: 'type'}, {label: 'tasks', cls: 'num'}, {label: 'emitted', cls: 'num'}, {label: 'transferred', cls: 'num'},
      {label: 'capacity', cls: 'num', title: 'the share of the time the executors were busy; near 1: the bottleneck'},
      {label: 'execute latency', cls: 'num', title: 'mean time in execute'}, {label: 'executed', cls: 'num'},
      {label: 'process latency', cls: 'num', title: 'mean time from the arrival of a tuple to its ack'},
      {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'}, {label: 'errors', cls: 'num'}, {label: 'last error'}],
    bolts.map(c => {
      const x = windowOf(c, w);
      return h('tr', {'data-row': c.id}, idCell(c), h('td', null, c.type), num((c.tasks || []).length), num(x.emitted, fmtNum(x.emitted)),
        num(x.transferred, fmtNum(x.transferred)), capCell(x.capacity), num(x.execute_latency_ms, fmtMs(x.execute_latency_ms)),
        num(x.executed, fmtNum(x.executed)), num(x.process_latency_ms, fmtMs(x.process_latency_ms)),
        num(x.acked, fmtNum(x.acked)), num(x.failed, fmtNum(x.failed)), num(x.errors), lastError(c));
    }), {class: 'components', id: 'bolts-table', 'data-empty': 'no bolts'}),
  ];
}

/** topologyStats: Storm's "topology stats": per window, totals of all components and the spouts' trees. */
function topologyStats(topo) {
  const spouts = topo.components.filter(c => c.kind === 'spout');
  return table([{label: 'window'}, {label: 'emitted', cls: 'num'}, {label: 'transferred', cls: 'num'},
    {label: 'complete latency', cls: 'num'}, {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'}],
  WINDOWS.map(([w, label]) => {
    const xs = topo.components.map(c => windowOf(c, w));
    const ss = spouts.map(c => windowOf(c, w));
    const acked = ss.reduce((a, x) => a + x.acked, 0);
    const lat = acked ? ss.reduce((a, x) => a + x.complete_latency_ms * x.acked, 0) / acked : 0;
    const secs = Math.max(0, ...xs.map(x => x.seconds || 0));
    return h('tr', {'data-window': w}, h('td', {title: secs ? `covers ${fmtDuration(secs)} so far` : ''}, label),
      num(xs.reduce((a, x) => a + x.emitted, 0), fmtNum(xs.reduce((a, x) => a + x.emitted, 0))),
      num(xs.reduce((a, x) => a + x.transferred, 0), fmtNum(xs.reduce((a, x) => a + x.transferred, 0))),
      num(lat, fmtMs(lat)), num(acked, fmtNum(acked)), num(ss.reduce((a, x) => a + x.failed, 0), fmtNum(ss.reduce((a, x) => a + x.failed, 0))));
  }), {id: 'topo-stats-table'});
}

/** errorsOf: a component's last errors, from the component and its tasks, newest first, without duplicates. */
function errorsOf(c) {
  const seen = new Set(), out = [];
  for (const e of (c.last_errors || []).concat(...(c.tasks || []).map(t => t.last_errors || []))) {
    const k = `${e.time}|${e.task}|${e.worker}|${e.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
}

function errorTable(c) {
  const errs = errorsOf(c);
  return table([{label: 'time'}, {label: 'worker'}, {label: 'task', cls: 'num'}, {label: 'message'}],
    errs.map(e => h('tr', {class: 'error-row'}, h('td', {class: 'nowrap', title: e.time}, fmtTime(e.time), h('span', {class: 'muted'}, ' · ', fmtAgo(e.time))),
      h('td', null, e.worker || '–'), num(e.task), h('td', {class: 'err-msg'}, e.message))),
    {class: 'errors', 'data-errors': c.id, 'data-empty': 'no errors reported'});
}

function errorsSection(topo) {
  const withErr = topo.components.filter(c => errorsOf(c).length || c.errors);
  if (!withErr.length) return h('p', {class: 'muted', id: 'no-errors'}, 'No component reported an error.');
  return withErr.map(c => h('div', {class: 'err-block', 'data-errors-of': c.id},
    h('h3', null, h('a', {href: compLink(topo.name, c.id)}, c.id), h('span', {class: 'muted'}, ` — ${fmtInt(c.errors)} error(s) in all`)),
    errorTable(c)));
}

function progress(p) {
  const total = Math.max(p.planned, 1);
  const pc = v => (100 * v / total).toFixed(1) + '%';
  const bar = h('div', {class: 'progress', title: `${p.committed} of ${p.planned} batches committed, ${p.in_flight} in flight (${p.committing || 0} committing), ${p.replaying} replaying`},
    h('span', {class: 'p-committed', style: {width: pc(p.committed)}}),
    h('span', {class: 'p-inflight', style: {width: pc(p.in_flight)}}),
    h('span', {class: 'p-replaying', style: {width: pc(p.replaying)}}));
  return h('td', {class: 'progress-cell'}, bar);
}

/** lostCell: the offsets Kafka deleted before the spout read them, with a warning badge and the last range. */
function lostCell(p) {
  const n = p.lost_offsets || 0;
  if (!n) return num(0);
  const l = p.last_lost;
  const title = `${fmtInt(n)} offsets deleted by Kafka (retention) before the spout read them, recorded lost in the ledger` +
    (l ? `; the last: [${l.start}, ${l.end}) of batch ${l.batch}` : '');
  return h('td', {class: 'num', 'data-value': n, 'data-lost': n, title}, h('span', {class: 'badge badge-lost'}, '⚠ ' + fmtInt(n)));
}

/** ledgerCell: a stopped partition and why, or the last error and the commits retried. */
function ledgerCell(p) {
  if (p.stopped) return h('td', {class: 'err-cell ledger-cell', 'data-stopped': '', title: p.stopped}, h('span', {class: 'badge badge-dead'}, 'stopped'), ' ', p.stopped);
  const retries = p.commit_retries ? `${fmtInt(p.commit_retries)} commit retries` : '';
  if (!p.last_error) return h('td', {class: 'muted'}, retries || 'ok');
  return h('td', {class: 'err-cell ledger-cell', title: `${p.last_error_at}: ${p.last_error}`}, retries && retries + ' · ', fmtTime(p.last_error_at), ': ', p.last_error);
}

function partitionsTable(parts, withComp) {
  return table([withComp && {label: 'spout'}, {label: 'topic'}, {label: 'partition', cls: 'num'}, {label: 'task', cls: 'num'}, {label: 'worker'},
    {label: 'planned', cls: 'num', title: 'batches planned in the ledger'}, {label: 'in flight', cls: 'num'}, {label: 'replaying', cls: 'num'},
    {label: 'committed', cls: 'num', title: 'batches committed contiguously'}, {label: 'next offset', cls: 'num'}, {label: 'committed offset', cls: 'num'},
    {label: 'high watermark', cls: 'num'}, {label: 'lag', cls: 'num', title: 'high watermark − committed offset'},
    {label: 'lost', cls: 'num', title: 'offsets deleted by Kafka (retention) before the spout read them'}, {label: 'batches'},
    {label: 'ledger', title: 'a stopped partition and why, or the last error and the commits retried'}].filter(Boolean),
  parts.map(p => h('tr', {'data-partition': `${p.topic}/${p.partition}`}, withComp && h('td', null, p._comp), h('td', null, p.topic), num(p.partition), num(p.task),
    h('td', null, p.worker || '–'), num(p.planned), num(p.in_flight), num(p.replaying), num(p.committed), num(p.next_offset),
    num(p.committed_offset), p.high_watermark < 0 ? h('td', {class: 'num muted', title: 'not known yet'}, 'unknown') : num(p.high_watermark),
    p.high_watermark < 0 ? h('td', {class: 'num muted'}, '–') : (() => { const td = num(p.lag); if (p.lag > 0) td.classList.add('lag'); return td; })(), lostCell(p),
    progress(p), ledgerCell(p))),
  {id: 'partitions-table'});
}

/** partitionsWarning: a notice above the table naming the partitions that lost records or stopped, or null. */
function partitionsWarning(parts) {
  const lost = parts.filter(p => p.lost_offsets > 0), stopped = parts.filter(p => p.stopped);
  if (!lost.length && !stopped.length) return null;
  const name = p => `${p.topic}/${p.partition}`;
  return h('div', {class: 'notice warn', id: 'partitions-warning'},
    lost.length ? h('div', null, '⚠ Records lost: ', lost.map(p => `${name(p)}: ${fmtInt(p.lost_offsets)} offsets`).join(', '),
      ' — Kafka deleted them (retention) before the spout read them; the ledger records the ranges and gale verify lists them.') : null,
    stopped.map(p => h('div', null, `⚠ ${name(p)} stopped: ${p.stopped}`)));
}

function sinksTable(sinks) {
  return table([{label: 'bolt'}, {label: 'backend'}, {label: 'batches', cls: 'num'}, {label: 'records', cls: 'num'}, {label: 'bytes', cls: 'num'},
    {label: 'in flight', cls: 'num'}, {label: 'write latency', cls: 'num', title: 'mean of the successful writes'}, {label: 'last write', cls: 'num'},
    {label: 'retries', cls: 'num'}, {label: 'rejected', cls: 'num', title: 'records sent to the dead-letter files'}, {label: 'last error'}],
  sinks.map(([id, sk]) => h('tr', {'data-sink': id}, h('td', null, id), h('td', null, sk.backend), num(sk.batches), num(sk.records, fmtNum(sk.records)),
    num(sk.bytes, fmtBytes(sk.bytes)), num(sk.in_flight), num(sk.write_latency_ms, fmtMs(sk.write_latency_ms)), num(sk.last_write_ms, fmtMs(sk.last_write_ms)),
    num(sk.retries), num(sk.rejected), sk.last_error ? h('td', {class: 'err-cell', title: sk.last_error}, fmtTime(sk.last_error_at), ': ', sk.last_error) : h('td', {class: 'muted'}, 'none'))),
  {id: 'sinks-table'});
}

// the autoscaler's decisions: a glyph per direction ("none": a change it could not make)
const GLYPHS = {up: '▲', down: '▼', none: '●'};
const direction = d => (d.direction === 'up' || d.direction === 'down' ? d.direction : 'none');
const limitedText = d => (d.limited ? ` (limited: ${d.limited})` : '');

/** autoscaleTable: the policies, and each component's parallelism: "current → desired (pending)" while a rescale waits. */
function autoscaleTable(topo) {
  const a = topo.autoscale, r = topo.rescale, pending = (r && r.parallelism) || {};
  const secs = v => num(v, fmtNum(v) + ' s');
  return table([{label: 'component'}, {label: 'min', cls: 'num'}, {label: 'max', cls: 'num'},
    {label: 'target capacity', cls: 'num', title: 'the busy share of a task it aims at: above it the component scales up'},
    {label: 'scale-up lag', cls: 'num', title: 'spouts: the lag (records behind ÷ consume rate) past which the spout scales up'},
    {label: 'cooldown', cls: 'num', title: 'no change either way this long after one'},
    {label: 'parallelism', cls: 'num', title: 'current → desired while a rescale is pending'}],
  Object.keys(a.policies || {}).sort().map(id => {
    const p = a.policies[id], want = pending[id];
    return h('tr', {'data-policy': id}, h('td', null, h('a', {href: compLink(topo.name, id)}, id)), num(p.min), num(p.max),
      num(p.target_capacity, fmtNum(p.target_capacity)), p.scale_up_lag_seconds ? secs(p.scale_up_lag_seconds) : h('td', {class: 'num muted'}, '–'),
      secs(p.cooldown_seconds), want === undefined || want === p.parallelism ? num(p.parallelism)
        : h('td', {class: 'num pending', 'data-value': want, title: `rescale asked ${fmtAgo(r.requested_at)}${r.reason ? ': ' + r.reason : ''}`},
          `${p.parallelism} → ${want} (pending)`));
  }), {id: 'autoscale-table', 'data-empty': 'no policy'});
}

/** autoscaleTimeline: each component's parallelism, stepped at the decisions and held to now, with a marker per decision. */
function autoscaleTimeline(topo) {
  const a = topo.autoscale, ds = a.decisions || [];
  if (!ds.length) return h('p', {class: 'muted', id: 'autoscale-timeline'}, 'No decision yet.');
  const at = d => Date.parse(d.at);
  const to = Math.max(Date.now(), ...ds.map(at));
  const from = at(ds[0]) - Math.max(60e3, (to - at(ds[0])) / 20);
  const ids = [...new Set(Object.keys(a.policies || {}).concat(ds.map(d => d.component)))].sort();
  const series = ids.map((id, i) => {
    const mine = ds.filter(d => d.component === id);
    const points = [[from, mine.length ? mine[0].from : a.policies[id].parallelism], ...mine.map(d => [at(d), d.to])];
    points.push([to, points[points.length - 1][1]]);
    return {name: id, cls: 's-c' + (i % 6), points};
  });
  const markers = ds.map(d => ({t: at(d), v: d.to, glyph: GLYPHS[direction(d)], cls: 'm-' + direction(d),
    title: `${fmtTime(d.at)} ${d.component} ${d.from} → ${d.to}: ${d.reason}${limitedText(d)}`}));
  return lineChart({title: 'Parallelism — the autoscaler’s decisions', id: 'autoscale-timeline', series, markers, stepped: true, from, to});
}

/** decisionList: the decisions, newest first. */
function decisionList(ds) {
  return h('ol', {class: 'decisions', id: 'autoscale-decisions'}, ds.slice().reverse().map(d => h('li', {'data-decision': d.component},
    h('span', {class: ['glyph', 'm-' + direction(d)], title: d.direction}, GLYPHS[direction(d)]), ' ',
    h('span', {class: 'nowrap', title: d.at}, fmtTime(d.at)), ' ', h('b', null, d.component), ` ${d.from} → ${d.to}: `, d.reason,
    d.limited ? h('span', {class: 'muted'}, limitedText(d)) : null)));
}

/** autoscaleSection: the autoscaler's state, policies and decisions. */
function autoscaleSection(topo) {
  const a = topo.autoscale;
  return [h('h2', null, 'Autoscaling'),
    h('p', {id: 'autoscale-state'}, badge(a.paused ? 'paused' : 'active'), ' ', h('span', {class: 'hint'}, a.paused
      ? `it changes nothing: gale autoscale on ${topo.name} resumes it` : `gale autoscale off ${topo.name} pauses it`)),
    autoscaleTable(topo), autoscaleTimeline(topo), decisionList(a.decisions || [])];
}

/** charts: throughput and complete latency of the chosen components (spouts by default). */
function charts(series, ids, label) {
  if (!series) return h('p', {class: 'muted'}, 'The series are not available.');
  const comps = series.components.filter(c => ids.includes(c.id));
  const times = new Map(); // ms -> {emitted, acked, failed, lat, latW}
  for (const c of comps) {
    for (const p of c.points) {
      const t = Date.parse(p.time);
      const a = times.get(t) || {emitted: 0, acked: 0, failed: 0, executed: 0, lat: 0, latW: 0, exec: 0, execW: 0};
      a.emitted += p.emitted; a.acked += p.acked; a.failed += p.failed; a.executed += p.executed;
      if (p.complete_latency_ms) { a.lat += p.complete_latency_ms * Math.max(p.acked, 1e-9); a.latW += Math.max(p.acked, 1e-9); }
      if (p.execute_latency_ms) { a.exec += p.execute_latency_ms * Math.max(p.executed, 1e-9); a.execW += Math.max(p.executed, 1e-9); }
      times.set(t, a);
    }
  }
  const ts = [...times.keys()].sort((a, b) => a - b);
  const pts = f => ts.map(t => [t, f(times.get(t))]);
  const span = series.window === '3h' ? 3 * 3600e3 : 600e3;
  const to = ts.length ? ts[ts.length - 1] : Date.now();
  const from = to - span;
  const spoutish = comps.some(c => c.kind === 'spout');
  const thr = lineChart({title: `Throughput — ${label} (per second, ${series.step_seconds} s steps)`, id: 'chart-throughput', unit: '/s', from, to,
    series: [{name: 'emitted', cls: 's-emitted', points: pts(a => a.emitted)},
      spoutish ? null : {name: 'executed', cls: 's-executed', points: pts(a => a.executed)},
      {name: 'acked', cls: 's-acked', points: pts(a => a.acked)},
      {name: 'failed', cls: 's-failed', points: pts(a => a.failed)}].filter(Boolean)});
  const lat = spoutish
    ? lineChart({title: `Complete latency — ${label} (ms)`, id: 'chart-latency', unit: ' ms', from, to,
      series: [{name: 'complete latency', cls: 's-latency', points: pts(a => (a.latW ? a.lat / a.latW : 0))}]})
    : lineChart({title: `Execute latency — ${label} (ms)`, id: 'chart-latency', unit: ' ms', from, to,
      series: [{name: 'execute latency', cls: 's-latency', points: pts(a => (a.execW ? a.exec / a.execW : 0))}]});
  return h('div', {class: 'charts'}, thr, lat);
}

/** actions: the buttons, and what they do after confirmation (and the token). */
function actionBar(topo, app) {
  const info = app.info || {};
  const name = topo.name;
  const run = async (what, path, body, done) => {
    try {
      const r = await post(path, body, {authRequired: !!info.auth_required});
      if (r === null) { toast(`${what}: cancelled (no token given)`, 'warn'); return; }
      toast(done, 'ok');
      app.refresh();
    } catch (e) {
      toast(`${what} failed: ${e.message}${e.details && e.details.length ? ' — ' + e.details.join('; ') : ''}`, 'error');
    }
  };
  const killed = topo.status === 'killed';
  const btn = (id, label, cls, attrs, f) => h('button', Object.assign({type: 'button', id, class: ['btn', cls], onclick: f}, attrs), label);
  const canRebalance = info.rebalance !== false;
  return h('div', {class: 'actions', id: 'actions'},
    btn('action-activate', 'Activate', '', {disabled: killed || topo.status === 'active', title: 'resume the spouts'}, async () => {
      if (await confirmAction(`Activate ${name}?`, `The spouts of ${name} resume emitting.`, 'Activate')) {
        await run('Activate', `/topologies/${enc(name)}/activate`, undefined, `${name}: activated`);
      }
    }),
    btn('action-deactivate', 'Deactivate', '', {disabled: killed || topo.status === 'inactive', title: 'pause the spouts'}, async () => {
      if (await confirmAction(`Deactivate ${name}?`, `The spouts of ${name} stop emitting (trees in flight complete); the bolts keep running. Activate resumes them.`, 'Deactivate')) {
        await run('Deactivate', `/topologies/${enc(name)}/deactivate`, undefined, `${name}: deactivated`);
      }
    }),
    btn('action-rebalance', 'Rebalance…', '', {disabled: killed || !canRebalance,
      title: canRebalance ? 'change the parallelism or the number of workers, without a restart' : 'a local run (gale run) cannot rebalance: it needs a cluster of gale workers'}, async () => {
      const current = app.lastTopology && app.lastTopology.name === name ? app.lastTopology : topo;
      const rb = await rebalanceForm(current);
      if (!rb) return;
      const lines = Object.entries(rb.parallelism || {}).map(([id, n]) => {
        const c = current.components.find(x => x.id === id);
        return h('li', null, `${id}: ${c ? c.parallelism : '?'} → ${n} task(s)`);
      });
      if (rb.workers) lines.push(h('li', null, `workers: ${current.workers} → ${rb.workers}`));
      if (await confirmAction(`Rebalance ${name}?`, [h('p', null, 'The spouts pause until the trees in flight complete, then these changes apply (nothing replays):'), h('ul', {id: 'rebalance-summary'}, lines)], 'Rebalance')) {
        await run('Rebalance', `/topologies/${enc(name)}/rebalance`, rb, `${name}: rebalancing`);
      }
    }),
    btn('action-kill', 'Kill…', 'btn-danger', {disabled: killed, title: 'stop and remove the topology'}, async () => {
      const k = await killForm(name);
      if (k) await run('Kill', `/topologies/${enc(name)}/kill?drain=${k.drain}`, undefined, `${name}: killing (drain ${k.drain} s)`);
    }),
    canRebalance ? null : h('span', {class: 'hint', id: 'rebalance-note'}, 'Rebalance needs a cluster: this is a local run.'));
}

function notFound(main, what, name, back) {
  replace(main, h('div', {class: 'card notice not-found', id: 'not-found'},
    h('h1', null, what),
    h('p', null, name),
    h('p', null, h('a', {href: back[1], class: 'btn btn-primary'}, back[0]))));
}

function facts(list) {
  return h('div', {class: 'facts'}, list.filter(Boolean).map(([k, v, metric, raw]) => h('div', {class: 'fact', 'data-metric': metric, 'data-value': raw},
    h('span', {class: 'k'}, k), h('span', {class: 'v'}, v))));
}

async function loadTopology(name) {
  const win = prefs.get('series', '10m');
  const [topo, series] = await Promise.all([
    get(`/topologies/${enc(name)}`),
    get(`/topologies/${enc(name)}/series?window=${win}`).catch(e => {
      if (e instanceof ApiError && e.status !== 404) return null; // charts only: the page still shows
      throw e;
    }),
  ]);
  return {topo, series};
}

/** TopologyPage is #/topology/NAME. */
export class TopologyPage {
  constructor(main, app, name) {
    this.main = main;
    this.app = app;
    this.name = name;
    this.title = name;
    this.built = false;
  }

  crumbs() { return [['Cluster', '#/'], ['topology ' + this.name, topoLink(this.name)]]; }

  load() { return loadTopology(this.name); }

  failed(e) {
    if (e instanceof ApiError && e.status === 404) {
      this.built = false;
      this.dag = null;
      notFound(this.main, `Topology “${this.name}” does not exist`,
        `There is no topology named “${this.name}” on this cluster — it may have been killed, or the name is mistyped.`, ['Back to the cluster page', '#/']);
      return true;
    }
    return false;
  }

  build() {
    const m = this.main;
    this.el = {
      head: h('div', {class: 'page-head'}),
      summary: h('div', {id: 'topo-summary'}),
      stats: section('Topology stats', {id: 'topo-stats'}),
      dag: h('div', {id: 'dag'}),
      charts: h('div', {id: 'charts-body'}),
      chartTools: h('div', {class: 'tools'}),
      comps: h('div', {id: 'components-body'}),
      compTools: h('div', {class: 'tools'}),
      errors: h('div', {id: 'errors-body'}),
      autoscale: section('Autoscaling', {id: 'autoscale', hidden: true}),
      parts: section('Kafka partitions — batches and lag', {id: 'partitions', hidden: true}),
      sinks: section('Sinks — writes per backend', {id: 'sinks', hidden: true}),
    };
    const e = this.el;
    replace(m, e.head, e.summary, e.stats,
      section('DAG', {id: 'dag-card'}, e.dag),
      section('Components', {id: 'components'}, e.compTools, e.comps),
      e.autoscale,
      section('Live charts', {id: 'charts'}, e.chartTools, e.charts),
      section('Last errors', {id: 'errors'}, e.errors),
      e.parts, e.sinks);
    this.dag = new DagView(e.dag, id => { location.hash = compLink(this.name, id); });
    this.built = true;
    this.headKey = this.toolsKey = this.autoscaleKey = '';
  }

  render({topo, series}) {
    if (!this.built) this.build();
    this.app.lastTopology = topo;
    const e = this.el;
    // the buttons are rebuilt only when what they depend on changes (a click is never lost to a poll)
    const headKey = JSON.stringify([topo.status, this.app.info && this.app.info.rebalance, this.app.info && this.app.info.auth_required]);
    if (headKey !== this.headKey) {
      this.headKey = headKey;
      replace(e.head, h('h1', null, topo.name, ' ', badge(topo.status)), actionBar(topo, this.app));
    }
    replace(e.summary, facts([
      ['Status', topo.status, 'status', topo.status], ['Version', topo.version, 'version', topo.version],
      ['Submitted', fmtTime(topo.submitted)], ['Uptime', fmtDuration(topo.uptime_seconds), 'uptime', topo.uptime_seconds],
      ['Workers', topo.workers, 'workers', topo.workers], ['Tasks', topo.tasks, 'tasks', topo.tasks],
      ['Emitted', fmtNum(topo.emitted), 'emitted', topo.emitted], ['Acked', fmtNum(topo.acked), 'acked', topo.acked],
      ['Failed', fmtNum(topo.failed), 'failed', topo.failed],
      ['Acked/s', fmtRate(topo.rates.acked), 'acked-rate', topo.rates.acked], ['Failed/s', fmtRate(topo.rates.failed), 'failed-rate', topo.rates.failed],
    ]), topo.unassigned && topo.unassigned.length
      ? h('p', {class: 'notice warn', id: 'unassigned'}, `${topo.unassigned.length} task(s) have no worker (not enough slots): ${topo.unassigned.join(', ')}. Add workers or lower the parallelism.`) : null);
    replace(e.stats, h('h2', null, 'Topology stats'), topologyStats(topo));
    this.dag.update(topo);
    const compWin = prefs.get('window', '10m');
    // the selectors are rebuilt only when they change (an open drop-down survives the polls)
    const chartComp = prefs.get('chart:' + topo.name, '');
    const toolsKey = JSON.stringify([compWin, chartComp, prefs.get('series', '10m'), topo.components.map(c => c.id)]);
    const newTools = toolsKey !== this.toolsKey;
    this.toolsKey = toolsKey;
    if (newTools) replace(e.compTools, h('span', {class: 'muted'}, 'Window '), selector('window', WINDOWS, '10m', () => this.app.rerender(), 'window-select'),
      h('span', {class: 'muted'}, ' · rates over the last minute'));
    replace(e.comps, componentTables(topo, compWin));
    // charts: the spouts (trees), or one chosen component
    const ids = chartComp && topo.components.some(c => c.id === chartComp) ? [chartComp] : topo.components.filter(c => c.kind === 'spout').map(c => c.id);
    const pick = h('select', {id: 'chart-component', 'aria-label': 'component shown in the charts', onchange: ev => { prefs.set('chart:' + topo.name, ev.target.value); this.app.rerender(); }},
      h('option', {value: ''}, 'all spouts'), topo.components.map(c => h('option', {value: c.id, selected: c.id === chartComp}, `${c.kind} ${c.id}`)));
    if (newTools) replace(e.chartTools, h('span', {class: 'muted'}, 'Window '), selector('series', SERIES_WINDOWS, '10m', () => this.app.refresh(), 'series-select'), ' ', pick);
    replace(e.charts, charts(series, ids, chartComp && ids[0] === chartComp ? chartComp : 'spouts'));
    replace(e.errors, errorsSection(topo));
    // rebuilt when it changes, or each minute to draw the timeline to now (a tooltip survives the polls)
    e.autoscale.hidden = !topo.autoscale;
    const autoscaleKey = JSON.stringify([topo.autoscale, topo.rescale, Math.floor(Date.now() / 60e3)]);
    if (topo.autoscale && autoscaleKey !== this.autoscaleKey) replace(e.autoscale, autoscaleSection(topo));
    this.autoscaleKey = autoscaleKey;
    const parts = topo.components.flatMap(c => (c.partitions || []).map(p => Object.assign({_comp: c.id}, p)));
    e.parts.hidden = !parts.length;
    if (parts.length) replace(e.parts, h('h2', null, 'Kafka partitions — batches and lag'), partitionsWarning(parts), partitionsTable(parts, true));
    const sinks = topo.components.filter(c => c.sink).map(c => [c.id, c.sink]);
    e.sinks.hidden = !sinks.length;
    if (sinks.length) replace(e.sinks, h('h2', null, 'Sinks — writes per backend'), sinksTable(sinks));
  }
}

/** ComponentPage is #/topology/NAME/component/ID. */
export class ComponentPage {
  constructor(main, app, name, id) {
    this.main = main;
    this.app = app;
    this.name = name;
    this.id = id;
    this.title = `${id} — ${name}`;
  }

  crumbs() {
    return [['Cluster', '#/'], ['topology ' + this.name, topoLink(this.name)], ['component ' + this.id, compLink(this.name, this.id)]];
  }

  load() { return loadTopology(this.name); }

  failed(e) {
    if (e instanceof ApiError && e.status === 404) {
      notFound(this.main, `Topology “${this.name}” does not exist`,
        `There is no topology named “${this.name}” on this cluster — it may have been killed, or the name is mistyped.`, ['Back to the cluster page', '#/']);
      return true;
    }
    return false;
  }

  render({topo, series}) {
    this.app.lastTopology = topo;
    const c = topo.components.find(x => x.id === this.id);
    if (!c) {
      notFound(this.main, `Component “${this.id}” is not in ${topo.name}`,
        `Topology ${topo.name} has no component “${this.id}” (its components: ${topo.components.map(x => x.id).join(', ')}).`, [`Open topology ${topo.name}`, topoLink(topo.name)]);
      return;
    }
    const tasks = (c.tasks || []).slice().sort((a, b) => a.id - b.id);
    const spout = c.kind === 'spout';
    const w10 = windowOf(c, '10m');
    const errs = errorsOf(c);
    replace(this.main,
      h('div', {class: 'page-head'}, h('h1', null, c.id, ' ', h('span', {class: 'kind'}, `${c.kind} · ${c.type}`)),
        h('a', {href: topoLink(topo.name), class: 'btn'}, '← ', topo.name)),
      facts([
        ['Topology', h('a', {href: topoLink(topo.name)}, topo.name)], ['Kind', c.kind], ['Type', c.type],
        ['Parallelism', c.parallelism, 'parallelism', c.parallelism], ['Tasks', tasks.length, 'tasks', tasks.length],
        ['Workers', new Set(tasks.map(t => t.worker)).size],
        ['Emitted', fmtNum(c.emitted), 'emitted', c.emitted], ['Acked', fmtNum(c.acked), 'acked', c.acked], ['Failed', fmtNum(c.failed), 'failed', c.failed],
        spout ? ['Complete latency', fmtMs(c.complete_latency_ms)] : ['Capacity (10 min)', (w10.capacity || 0).toFixed(3), 'capacity', w10.capacity],
        spout && c.complete_p99_ms ? ['p50 / p99', `${fmtMs(c.complete_p50_ms)} / ${fmtMs(c.complete_p99_ms)}`] : null,
        ['Errors', fmtInt(c.errors), 'errors', c.errors],
      ]),
      section('Windows', {id: 'windows'}, table([{label: 'window'}, {label: 'emitted', cls: 'num'}, {label: 'transferred', cls: 'num'},
        {label: 'executed', cls: 'num'}, {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'}, {label: 'errors', cls: 'num'},
        {label: 'execute latency', cls: 'num'}, {label: 'process latency', cls: 'num'}, {label: 'complete latency', cls: 'num'}, {label: 'capacity', cls: 'num'}],
      WINDOWS.map(([w, label]) => {
        const x = windowOf(c, w);
        return h('tr', {'data-window': w}, h('td', {title: x.seconds ? `covers ${fmtDuration(x.seconds)} so far` : ''}, label),
          num(x.emitted, fmtNum(x.emitted)), num(x.transferred, fmtNum(x.transferred)), num(x.executed, fmtNum(x.executed)),
          num(x.acked, fmtNum(x.acked)), num(x.failed, fmtNum(x.failed)), num(x.errors),
          num(x.execute_latency_ms, fmtMs(x.execute_latency_ms)), num(x.process_latency_ms, fmtMs(x.process_latency_ms)),
          num(x.complete_latency_ms, fmtMs(x.complete_latency_ms)), spout ? h('td', {class: 'muted num'}, '–') : capCell(x.capacity));
      }))),
      section('Tasks', {id: 'tasks'}, table([{label: 'task', cls: 'num'}, {label: 'worker'}, {label: 'emitted', cls: 'num'}, {label: 'transferred', cls: 'num'},
        {label: 'executed', cls: 'num'}, {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'},
        {label: 'emitted/s', cls: 'num'}, {label: 'acked/s', cls: 'num'}, {label: 'failed/s', cls: 'num'},
        {label: spout ? 'pending' : 'queue', cls: 'num', title: spout ? 'trees in flight' : 'tuples waiting'},
        {label: 'execute latency', cls: 'num'}, {label: 'process latency', cls: 'num'}, {label: 'complete latency', cls: 'num'},
        {label: 'capacity', cls: 'num'}, {label: 'errors', cls: 'num'}, {label: 'last error'}],
      tasks.map(t => h('tr', {'data-task': t.id}, num(t.id), h('td', null, t.worker || h('span', {class: 'muted'}, 'unassigned')),
        num(t.emitted, fmtNum(t.emitted)), num(t.transferred, fmtNum(t.transferred)), num(t.executed, fmtNum(t.executed)),
        num(t.acked, fmtNum(t.acked)), num(t.failed, fmtNum(t.failed)),
        num(t.rates.emitted, fmtRate(t.rates.emitted)), num(t.rates.acked, fmtRate(t.rates.acked)), num(t.rates.failed, fmtRate(t.rates.failed)),
        num(spout ? t.pending || 0 : t.queue_len || 0), num(t.execute_latency_ms, fmtMs(t.execute_latency_ms)),
        num(t.process_latency_ms, fmtMs(t.process_latency_ms)), num(t.complete_latency_ms, fmtMs(t.complete_latency_ms)),
        spout ? h('td', {class: 'muted num'}, '–') : capCell(t.capacity), num(t.errors), lastError(Object.assign({}, t, {errors: t.errors})))),
      {id: 'tasks-table', 'data-empty': 'no tasks'})),
      section('Live charts', {id: 'charts'}, h('div', {class: 'tools'}, h('span', {class: 'muted'}, 'Window '),
        selector('series', SERIES_WINDOWS, '10m', () => this.app.refresh(), 'series-select')), charts(series, [c.id], c.id)),
      section(`Last errors (${errs.length} shown, ${fmtInt(c.errors)} in all)`, {id: 'errors'}, errorTable(c)),
      c.partitions && c.partitions.length ? section('Kafka partitions — batches and lag', {id: 'partitions'}, partitionsWarning(c.partitions), partitionsTable(c.partitions, false)) : null,
      c.sink ? section('Sink — writes', {id: 'sinks'}, sinksTable([[c.id, c.sink]])) : null,
      c.custom && Object.keys(c.custom).length ? section('Custom metrics (summed over the tasks)', {id: 'custom'},
        table([{label: 'metric'}, {label: 'value', cls: 'num'}], Object.entries(c.custom).sort().map(([k, v]) => [h('td', {class: 'mono'}, k), num(v, fmtNum(v))]))) : null);
  }
}
