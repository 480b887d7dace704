// dom.js — element builders and number/time formatting shared by the pages.

/** The SVG namespace (an identifier, not a URL that is fetched). */
export const SVGNS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h builds an HTML element: h('td', {class: 'num'}, 'text', child...). Text is never parsed as HTML. */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** s builds an SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVGNS, tag), attrs, children);
}

/** replace empties el and puts children in it. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const compact = new Intl.NumberFormat('en', {notation: 'compact', maximumFractionDigits: 1});
const grouped = new Intl.NumberFormat('en');

/** fmtInt: 1234567 -> "1,234,567". */
export function fmtInt(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  return grouped.format(Math.round(n));
}

/** fmtNum: 1234567 -> "1.2M", 0.25 -> "0.25". */
export function fmtNum(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 1000) return compact.format(n);
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(Math.abs(n) >= 10 ? 1 : 2);
}

/** fmtRate: per-second rate. */
export function fmtRate(n) { return n ? fmtNum(n) + '/s' : '0/s'; }

/** fmtMs: a latency in milliseconds. */
export function fmtMs(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 0.1) return (ms * 1000).toFixed(ms < 0.01 ? 2 : 1) + ' µs';
  if (ms < 1) return ms.toFixed(3) + ' ms';
  if (ms < 100) return ms.toFixed(1) + ' ms';
  if (ms < 10000) return Math.round(ms) + ' ms';
  return (ms / 1000).toFixed(1) + ' s';
}

/** fmtBytes: 1536 -> "1.5 KiB". */
export function fmtBytes(b) {
  if (!b) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? b : b.toFixed(1)) + ' ' + units[i];
}

/** fmtDuration: seconds -> "3d 4h", "5m 12s". */
export function fmtDuration(sec) {
  if (sec === undefined || sec === null || Number.isNaN(sec) || sec < 0) return '–';
  sec = Math.floor(sec);
  const d = Math.floor(sec / 86400), hh = Math.floor(sec % 86400 / 3600), m = Math.floor(sec % 3600 / 60), x = sec % 60;
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${m}m`;
  if (m) return `${m}m ${x}s`;
  return `${x}s`;
}

/** since: seconds since an RFC 3339 time (NaN when there is none). */
export function since(t) {
  const ms = Date.parse(t);
  if (!ms || ms <= 0 || t.startsWith('0001-')) return NaN;
  return (Date.now() - ms) / 1000;
}

/** fmtTime: an RFC 3339 time as local time, with the date when not today. */
export function fmtTime(t) {
  const ms = Date.parse(t);
  if (!ms || t.startsWith('0001-')) return '–';
  const d = new Date(ms), now = new Date();
  const hms = d.toLocaleTimeString('en-GB', {hour12: false});
  if (d.toDateString() === now.toDateString()) return hms;
  return d.toISOString().slice(0, 10) + ' ' + hms;
}

/** fmtAgo: "12s ago". */
export function fmtAgo(t) {
  const s = since(t);
  return Number.isNaN(s) ? '–' : fmtDuration(Math.max(0, s)) + ' ago';
}

/**
 * capacityColor: the fill of a node of capacity c: green at 0, amber
 * around 0.5, red from 0.9 (Storm's bottleneck threshold is 1).
 */
export function capacityColor(c, light = 88) {
  c = Math.max(0, Math.min(1, (c || 0) / 0.9));
  const hue = 130 - 130 * c;
  return `hsl(${hue.toFixed(0)} 65% ${light}%)`;
}

/** statusBadge: a coloured badge for a topology or worker state. */
export function badge(state) {
  return h('span', {class: ['badge', 'badge-' + String(state || 'unknown').toLowerCase()]}, state || 'unknown');
}

/** table builds a table: cols is [{label, cls, title}], rows are arrays of cells (nodes or text). */
export function table(cols, rows, attrs = {}) {
  return h('div', {class: 'table-wrap'},
    h('table', attrs,
      h('thead', null, h('tr', null, cols.map(c => h('th', {class: c.cls, title: c.title}, c.label)))),
      h('tbody', null, rows.length ? rows.map(r => Array.isArray(r) ? h('tr', null, r.map((cell, i) => cellOf(cell, cols[i]))) : r)
        : h('tr', null, h('td', {colspan: cols.length, class: 'empty'}, attrs['data-empty'] || 'nothing yet')))));
}

function cellOf(cell, col) {
  if (cell instanceof Node && cell.tagName === 'TD') return cell;
  return h('td', {class: col && col.cls}, cell);
}

/** num: a numeric cell whose raw value the tests (and tooltips) can read. */
export function num(v, text) {
  return h('td', {class: 'num', 'data-value': v, title: String(v)}, text === undefined ? fmtInt(v) : text);
}

/** section: a titled block. */
export function section(title, attrs, ...children) {
  return h('section', Object.assign({class: 'card'}, attrs), h('h2', null, title), ...children);
}
