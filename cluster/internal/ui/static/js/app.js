// app.js — the monitor's shell: hash routes, polling every 3 s, the
// "cannot reach the API" banner with backoff, and the header.

import {get, apiBase, getToken, setToken, onTokenNeeded, Unreachable, ApiError} from './api.js';
import {h, replace} from './dom.js';
import {promptToken} from './dialogs.js';
import {ClusterPage} from './cluster.js';
import {TopologyPage, ComponentPage} from './topology.js';

const POLL_MS = 3000;
const BACKOFF_S = [2, 4, 8, 15, 30];
const INFO_MAX_AGE_MS = 30000;

const main = document.getElementById('app');
const banner = document.getElementById('banner');
const crumbs = document.getElementById('crumbs');
const serverInfo = document.getElementById('server-info');

onTokenNeeded(promptToken);

const app = {
  info: null,
  infoAt: 0,
  page: null,
  gen: 0,        // bumps on every route change: late answers of an old page are dropped
  timer: 0,
  countdown: 0,
  failures: 0,
  lastData: null,
  lastTopology: null,
  polls: 0,

  /** refresh fetches now (after an action, or a window change that needs new data). */
  refresh() { schedule(0); },

  /** rerender draws the last data again (a selector changed). */
  rerender() {
    if (this.page && this.lastData) this.page.render(this.lastData);
  },
};
window.galeUI = app; // for debugging in the console, and for the browser tests

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(x => {
    try { return decodeURIComponent(x); } catch { return x; }
  });
  if (!parts.length) return new ClusterPage(main, app);
  if (parts[0] === 'topology' && parts.length === 2) return new TopologyPage(main, app, parts[1]);
  if (parts[0] === 'topology' && parts.length === 4 && parts[2] === 'component') return new ComponentPage(main, app, parts[1], parts[3]);
  return null;
}

function navigate() {
  app.gen++;
  app.lastData = null;
  app.lastTopology = null;
  clearTimeout(app.timer);
  main.classList.remove('stale');
  const page = route();
  app.page = page;
  if (!page) {
    replace(crumbs, h('a', {href: '#/'}, 'Cluster'));
    replace(main, h('div', {class: 'card notice not-found', id: 'not-found'}, h('h1', null, 'No such page'),
      h('p', null, `The address ${location.hash} names no page of the monitor.`),
      h('p', null, h('a', {href: '#/', class: 'btn btn-primary'}, 'Back to the cluster page'))));
    document.title = 'Gale monitor';
    return;
  }
  document.title = `${page.title} — Gale`;
  replace(crumbs, page.crumbs().map(([label, href], i, all) => [i ? h('span', {class: 'sep'}, '›') : null,
    i === all.length - 1 ? h('span', {class: 'here'}, label) : h('a', {href}, label)]));
  replace(main, h('p', {class: 'loading'}, 'Loading…'));
  schedule(0);
}

function schedule(ms) {
  clearTimeout(app.timer);
  app.timer = setTimeout(tick, ms);
}

async function loadInfo(force) {
  if (!force && app.info && Date.now() - app.infoAt < INFO_MAX_AGE_MS) return;
  app.info = await get('/info');
  app.infoAt = Date.now();
  renderInfo();
}

function renderInfo() {
  const i = app.info || {};
  const token = getToken();
  replace(serverInfo,
    h('span', {class: 'mode', title: 'the server that answers'}, `${i.mode || '?'} · ${i.worker || '?'} · ${i.version || '?'}`),
    i.auth_required ? (token
      ? h('button', {type: 'button', class: 'btn btn-small', id: 'forget-token', title: 'forget the API token kept in this tab',
        onclick: () => { setToken(''); renderInfo(); }}, 'token ✓ forget')
      : h('span', {class: 'muted', title: 'actions will ask for the token'}, 'token needed for actions')) : null,
    i.insecure ? h('span', {class: 'badge badge-killed', id: 'insecure',
      title: 'started with --insecure: reachable off loopback without a token or a cluster key; whoever reaches it can run code on it'},
    'INSECURE') : null);
}

async function tick() {
  const gen = app.gen, page = app.page;
  if (!page) return;
  try {
    await loadInfo(false);
    const data = await page.load();
    if (gen !== app.gen) return;
    app.lastData = data;
    online();
    page.render(data);
    app.polls++;
    document.body.dataset.polls = app.polls;
    schedule(POLL_MS);
  } catch (e) {
    if (gen !== app.gen) return;
    if (e instanceof Unreachable || (e instanceof ApiError && e.status === 503)) {
      offline(e);
      return;
    }
    online();
    if (!(page.failed && page.failed(e))) {
      replace(main, h('div', {class: 'card notice error', id: 'page-error'}, h('h1', null, 'The API answered with an error'),
        h('p', null, `${e.message}${e.status ? ` (HTTP ${e.status})` : ''}`),
        e.details && e.details.length ? h('ul', null, e.details.map(d => h('li', null, d))) : null,
        h('p', null, h('a', {href: '#/'}, 'Back to the cluster page'))));
    }
    app.polls++;
    document.body.dataset.polls = app.polls;
    schedule(POLL_MS);
  }
}

function online() {
  if (app.failures) {
    app.failures = 0;
    clearInterval(app.countdown);
    banner.hidden = true;
    replace(banner);
    main.classList.remove('stale');
    document.body.classList.remove('offline');
    loadInfo(true).catch(() => {});
  }
}

function offline(err) {
  const wait = BACKOFF_S[Math.min(app.failures, BACKOFF_S.length - 1)];
  app.failures++;
  main.classList.add('stale');
  document.body.classList.add('offline');
  let left = wait;
  const what = err instanceof Unreachable
    ? `Cannot reach the API at ${apiBase()} (${err.message})`
    : `The API answered, but ${err.message} (HTTP ${err.status})`;
  const text = h('span', {id: 'banner-text'});
  const paint = () => { text.textContent = `${what} — retrying in ${left} s. The data below is the last received.`; };
  paint();
  replace(banner, text, h('button', {type: 'button', class: 'btn btn-small', id: 'banner-retry', onclick: () => schedule(0)}, 'Retry now'));
  banner.hidden = false;
  clearInterval(app.countdown);
  app.countdown = setInterval(() => { left = Math.max(0, left - 1); paint(); }, 1000);
  schedule(wait * 1000);
}

window.addEventListener('hashchange', navigate);
navigate();
